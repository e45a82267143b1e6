#!/usr/bin/env bash
# Installs Open MPI from Debian (openmpi-bin: mpirun and libmpi) for the --enable-mpi tests,
# plus iproute2 for the network-namespace test. Nothing is built: the packages are the cache,
# so a second run only checks that they are there.
#
# Usage:   scripts/install-mpi.sh
# Output:  the last line on stdout is the absolute path of mpirun (what the tests read
#          from MPIRUN).
set -euo pipefail

log()  { echo "[install-mpi] $*" >&2; }
fail() { echo "[install-mpi] ERROR: $*" >&2; exit 1; }
# shellcheck source-path=SCRIPTDIR source=install-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/install-common.sh"

apt_install openmpi-bin iproute2
mpirun=$(command -v mpirun) || fail "openmpi-bin is installed but mpirun is not on PATH"
# perf-analyzer opens libmpi at run time; check here that the loader finds it.
# (The list is read whole first: `grep -q` closing the pipe early would fail it under pipefail.)
libraries=$(ldconfig -p)
grep -q 'libmpi\.so' <<<"$libraries" || fail "openmpi-bin is installed but the loader does not find libmpi.so (ldconfig -p)"
log "Open MPI: $("$mpirun" --version 2>/dev/null | head -n 1)"
echo "$mpirun"
