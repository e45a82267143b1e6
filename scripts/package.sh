#!/usr/bin/env bash
# Builds what a machine without Swift can install: perf-analyzer and kserve-sim in release mode
# with the Swift runtime, Foundation, libstdc++, libgcc and zlib linked in (glibc is their only
# shared library), then
#   - a tarball: both binaries, the README, LICENSE and THIRD_PARTY_LICENSES;
#   - a Python wheel that installs both binaries on the environment's PATH, tagged
#     manylinux_2_N for the newest glibc symbol version the binaries use (built by hatchling
#     through `python -m build`, then checked by auditwheel).
# Checks before packaging: no shared library but glibc's, and no run path into the toolchain.
#
# Usage:   scripts/package.sh [OUT_DIR]        (default: .build-package in the repository)
# Env:     PACKAGE_SCRATCH      SwiftPM scratch folder for the static build (default: .build-static)
#          PERF_ANALYZER_CACHE  cache root for the packaging tools' virtual environment
#                               (default: ${XDG_CACHE_HOME:-~/.cache}/swift-perf-analyzer)
# Output:  OUT_DIR/swift-perf-analyzer-VERSION-ARCH-linux-gnu.tar.gz and
#          OUT_DIR/swift_perf_analyzer-VERSION-py3-none-manylinux_2_N_ARCH.whl; the last two
#          lines on stdout are their paths. Earlier files of these names are replaced.
set -euo pipefail
# OUT_DIR as the caller wrote it, from the caller's folder; the default inside the repository.
out=${1:+$(mkdir -p "$1" && cd "$1" && pwd)}
cd "$(dirname "$0")/.."
out=${out:-$(mkdir -p .build-package && cd .build-package && pwd)}
scratch=$(realpath -m "${PACKAGE_SCRATCH:-.build-static}")
cache="${PERF_ANALYZER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/swift-perf-analyzer}"
tools="$cache/package-tools-1"
log() { echo "[package] $*" >&2; }
fail() { echo "[package] ERROR: $*" >&2; exit 1; }
# shellcheck source=install-common.sh
source scripts/install-common.sh
# shellcheck source=release-flags.sh
source scripts/release-flags.sh
apt_install binutils zlib1g-dev

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The link lines name libstdc++ (the toolchain's static runtime) and zlib (gRPC's compression)
# with -l, which picks the shared library. A search folder holding only their archives, first
# on the linker's path, makes it pick libstdc++.a and libz.a instead.
archives="$scratch/static-archives"
mkdir -p "$archives"
for library in libstdc++.a libz.a; do
    path=$(gcc -print-file-name="$library")
    [ -f "$path" ] || fail "$library not found (gcc -print-file-name gave '$path'); Debian: libstdc++-12-dev, zlib1g-dev"
    ln -sf "$path" "$archives/$library"
done
# glibc symbols newer than the floor we ship for: arc4random is defined by our own code, and
# calls to hypot, hypotf and _dl_find_object are wrapped to reach what glibc 2.34 has
# (packaging/glibc). A C++ program linked the same way must still catch an exception.
floor_objects="$scratch/glibc-floor"
mkdir -p "$floor_objects"
for source in arc4random older_symbols; do
    gcc -O2 -fPIC -Wall -Werror -c "packaging/glibc/$source.c" -o "$floor_objects/$source.o" \
        || fail "could not compile packaging/glibc/$source.c"
done
wraps=(hypot hypotf _dl_find_object)
g++ -O2 -static-libgcc -static-libstdc++ packaging/glibc/unwind_check.cpp "$floor_objects"/*.o \
    "${wraps[@]/#/-Wl,--wrap=}" -o "$floor_objects/unwind_check" || fail "could not build packaging/glibc/unwind_check.cpp"
"$floor_objects/unwind_check" >/dev/null || fail "packaging/glibc/unwind_check failed: the wrappers break unwinding or hypot"
flags=("${RELEASE_FLAGS[@]}" --static-swift-stdlib --scratch-path "$scratch"
       -Xswiftc -L -Xswiftc "$archives"
       -Xswiftc -Xclang-linker -Xswiftc -static-libgcc
       -Xswiftc -gnone -Xcc -g0   # no debug info: the packaged copies are stripped anyway
       -Xlinker "$floor_objects/arc4random.o" -Xlinker "$floor_objects/older_symbols.o")
for symbol in "${wraps[@]}"; do flags+=(-Xlinker "--wrap=$symbol"); done
log "building perf-analyzer and kserve-sim (release, static Swift runtime) in $scratch"
# SwiftPM does not relink when only linker flags change: link both anew every time.
rm -f "$scratch/release/perf-analyzer" "$scratch/release/kserve-sim"
swift build "${flags[@]}" --product perf-analyzer >&2
swift build "${flags[@]}" --product kserve-sim >&2
built=$(swift build "${flags[@]}" --show-bin-path)

# Stripped copies: the symbol tables are most of an unstripped binary.
mkdir -p "$work/bin"
for tool in perf-analyzer kserve-sim; do
    strip -o "$work/bin/$tool" "$built/$tool"
done

# Every shared library a binary names must be glibc's; nothing may point into the toolchain.
glibc_libraries='^(libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libutil\.so\.1|ld-linux-[a-z0-9-]+\.so\.[0-9]+)$'
floor_minor=0
for tool in perf-analyzer kserve-sim; do
    binary="$work/bin/$tool"
    # Read once; checked as text (a `grep -q` reading a pipe could fail it early under pipefail).
    dynamic=$(readelf -d "$binary")
    needed=$(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<<"$dynamic")
    while read -r library; do
        [[ "$library" =~ $glibc_libraries ]] || fail "$tool needs $library, which is not part of glibc"
    done <<<"$needed"
    runpath=$(grep -E '\((RUNPATH|RPATH)\)' <<<"$dynamic" || true)
    if grep -q "/opt/\|swift" <<<"$runpath"; then
        fail "$tool has a run path into the toolchain: $runpath"
    fi
    minor=$(objdump -T "$binary" | grep -o 'GLIBC_2\.[0-9]*' | sed 's/GLIBC_2\.//' | sort -n | tail -n 1)
    [ -n "$minor" ] || fail "$tool: no glibc symbol versions found by objdump -T"
    [ "$minor" -gt "$floor_minor" ] && floor_minor=$minor
    log "$tool: $(stat -c %s "$binary") bytes stripped, needs $(paste -sd ' ' <<<"$needed"), glibc 2.$minor symbols at most"
done

version=$("$work/bin/perf-analyzer" --version | sed -n 's/^perf-analyzer \([^ ]*\) .*/\1/p')
[ -n "$version" ] || fail "could not read the version from perf-analyzer --version"
arch=$(uname -m)
platform="manylinux_2_${floor_minor}_${arch}"
log "version $version; glibc floor 2.$floor_minor; wheel platform $platform"

# The dependencies' licences, from the checkouts this build linked.
{
    echo "perf-analyzer and kserve-sim include code from the packages below, each under the licence"
    echo "that follows its name. The Swift runtime and Foundation (Apache License 2.0 with the"
    echo "Runtime Library Exception), GCC's libstdc++ and libgcc (GPL 3 with the GCC Runtime"
    echo "Library Exception) and zlib (the zlib licence) are linked in as well."
    for checkout in "$scratch"/checkouts/*/; do
        name=$(basename "$checkout")
        for file in "$checkout"LICENSE* "$checkout"NOTICE*; do
            [ -f "$file" ] || continue
            printf '\n==== %s: %s ====\n\n' "$name" "$(basename "$file")"
            cat "$file"
        done
    done
} >"$work/THIRD_PARTY_LICENSES"

# The tarball.
name="swift-perf-analyzer-$version"
mkdir -p "$work/$name"
cp "$work/bin/perf-analyzer" "$work/bin/kserve-sim" README.md LICENSE "$work/THIRD_PARTY_LICENSES" "$work/$name/"
tarball="$out/$name-$arch-linux-gnu.tar.gz"
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -czf "$tarball" "$name"
log "tarball: $tarball ($(stat -c %s "$tarball") bytes)"

# The packaging tools, pinned, in a virtual environment outside the clone.
if [ ! -f "$tools/.complete" ]; then
    log "installing the packaging tools (build, hatchling, auditwheel) into $tools"
    rm -rf "$tools"
    python3 -m venv "$tools" || fail "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$tools/bin/python" -m pip install --quiet build==1.6.1 hatchling==1.33.0 auditwheel==6.8.2 >&2 \
        || fail "could not install build, hatchling and auditwheel from PyPI"
    touch "$tools/.complete"
fi

# The wheel, built from a staging copy of packaging/wheel with the binaries beside it.
stage="$work/wheel"
mkdir -p "$stage/bin"
cp packaging/wheel/pyproject.toml packaging/wheel/platform_tag.py packaging/wheel/README.md LICENSE "$work/THIRD_PARTY_LICENSES" "$stage/"
cp "$work/bin/perf-analyzer" "$work/bin/kserve-sim" "$stage/bin/"
echo "$version" >"$stage/VERSION"
wheel="$out/swift_perf_analyzer-$version-py3-none-$platform.whl"
rm -f "$wheel"
SWIFT_PERF_ANALYZER_WHEEL_PLATFORM=$platform "$tools/bin/python" -m build --wheel --no-isolation --outdir "$out" "$stage" >&2 \
    || fail "python -m build failed for the wheel"
[ -f "$wheel" ] || fail "the wheel was expected at $wheel; $out holds: $(ls "$out")"
# auditwheel reads the wheel's ELF files and names the most general tag they allow.
shown=$("$tools/bin/auditwheel" show "$wheel" 2>&1) || fail "auditwheel show failed: $shown"
grep -q "platform tag: \"$platform\"" <<<"$shown" || fail "auditwheel does not agree with $platform: $shown"
log "wheel: $wheel ($(stat -c %s "$wheel") bytes; auditwheel agrees with $platform)"

echo "$tarball"
echo "$wheel"
