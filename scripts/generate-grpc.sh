#!/usr/bin/env bash
# Regenerates the Swift code in Sources/KServeGRPC/Generated/ from the Triton
# protos in Protos/triton/. The build never runs this script: the generated
# files are committed. Run it by hand after updating a .proto or a plugin.
#
# Usage:   scripts/generate-grpc.sh
# Needs:   protoc (Debian: apt-get install protobuf-compiler) and the two
#          plugins, either on PATH or given by env vars:
#   PROTOC                  protoc binary            (default: protoc)
#   PROTOC_GEN_SWIFT        protoc-gen-swift         (default: from PATH)
#   PROTOC_GEN_GRPC_SWIFT   protoc-gen-grpc-swift-2  (default: from PATH)
#
# Building the plugins (versions must match Package.swift / Generated/README.md):
#   swift-protobuf 1.39.0        -> product protoc-gen-swift
#   grpc-swift-protobuf 2.4.1    -> product protoc-gen-grpc-swift-2
# e.g. in a throwaway SwiftPM package depending on both:
#   swift build -c release --product protoc-gen-swift
#   swift build -c release --product protoc-gen-grpc-swift-2
set -euo pipefail
cd "$(dirname "$0")/.."

PROTOC="${PROTOC:-protoc}"
PROTOC_GEN_SWIFT="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"
PROTOC_GEN_GRPC_SWIFT="${PROTOC_GEN_GRPC_SWIFT:-$(command -v protoc-gen-grpc-swift-2 || true)}"

fail() { echo "[generate-grpc] ERROR: $*" >&2; exit 1; }
command -v "$PROTOC" >/dev/null || fail "protoc not found (set PROTOC)"
[ -x "$PROTOC_GEN_SWIFT" ] || fail "protoc-gen-swift not found (set PROTOC_GEN_SWIFT)"
[ -x "$PROTOC_GEN_GRPC_SWIFT" ] || fail "protoc-gen-grpc-swift-2 not found (set PROTOC_GEN_GRPC_SWIFT)"

PROTO_DIR=Protos/triton
OUT_DIR=Sources/KServeGRPC/Generated

echo "[generate-grpc] $("$PROTOC" --version)" >&2
rm -f "$OUT_DIR"/*.pb.swift "$OUT_DIR"/*.grpc.swift
mkdir -p "$OUT_DIR"

# Message types (both files).
"$PROTOC" \
    --proto_path="$PROTO_DIR" \
    --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" \
    --swift_opt=Visibility=Public \
    --swift_out="$OUT_DIR" \
    grpc_service.proto model_config.proto

# Client and server stubs (only grpc_service.proto declares a service).
"$PROTOC" \
    --proto_path="$PROTO_DIR" \
    --plugin=protoc-gen-grpc-swift="$PROTOC_GEN_GRPC_SWIFT" \
    --grpc-swift_opt=Visibility=Public,Client=true,Server=true \
    --grpc-swift_out="$OUT_DIR" \
    grpc_service.proto

ls -l "$OUT_DIR" >&2
