# shellcheck shell=bash
# Source this file (after scripts/install-triton.sh) to get:
#   TRITON_ROOT      unpacked nvidia-pytriton wheel in the cache
#   TRITONSERVER     path of the tritonserver binary
#   TRITON_BACKENDS  value for tritonserver --backend-directory
#   TRITON_SERVER_DIRECTORY  value for --triton-server-directory (--service-kind triton_c_api):
#                    lib/libtritonserver.so, backends/, caches/ (perf_analyzer also needs
#                    LD_LIBRARY_PATH=$TRITON_SERVER_DIRECTORY/lib; see docs/compatibility.md)
#   PERF_ANALYZER    path of the reference perf_analyzer wrapper (if installed)
# It deliberately does not change shell options of the caller.
PERF_ANALYZER_CACHE="${PERF_ANALYZER_CACHE:-$HOME/.cache/swift-perf-analyzer}"
TRITON_ROOT="$PERF_ANALYZER_CACHE/triton-0.5.14"
TRITONSERVER="$TRITON_ROOT/pytriton/tritonserver/bin/tritonserver"
TRITON_BACKENDS="$TRITON_ROOT/pytriton/tritonserver/backends"
TRITON_SERVER_DIRECTORY="$TRITON_ROOT/pytriton/tritonserver"
PERF_ANALYZER="$PERF_ANALYZER_CACHE/bin/perf_analyzer"
export PERF_ANALYZER_CACHE TRITON_ROOT TRITONSERVER TRITON_BACKENDS TRITON_SERVER_DIRECTORY PERF_ANALYZER
if [ ! -f "$TRITON_ROOT/.complete" ] || [ ! -x "$TRITONSERVER" ] || [ ! -e "$TRITON_SERVER_DIRECTORY/lib/libtritonserver.so" ]; then
    echo "triton-env.sh: Triton is not installed in $TRITON_ROOT; run scripts/install-triton.sh" >&2
    # shellcheck disable=SC2317  # exit is reached only if executed, not sourced
    return 1 2>/dev/null || exit 1
fi
