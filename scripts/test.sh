#!/usr/bin/env bash
# The whole test suite: builds everything and runs every test target.
# This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build --build-tests
swift test --skip-build
