# shellcheck shell=bash
# The flags of every release build in this project (sourced, not run): the scripts, the
# benchmarks and the packages all build with these, so that what is measured is what ships, and
# the scripts and benchmarks share .build/release (other flags would rebuild everything).
#
# -enforce-exclusivity=unchecked drops the run-time exclusivity checks (swift_beginAccess)
# from optimized code, SwiftNIO's included: its channel and write paths make several per
# request. The checks stay on in debug builds, which the test suite runs. Package.swift cannot
# carry the flag (SwiftPM refuses unsafe flags in a package others depend on by version), so it
# goes on the command line. Figures: docs/benchmarks.md, "Release builds without exclusivity
# checks".
# shellcheck disable=SC2034
RELEASE_FLAGS=(-c release -Xswiftc -enforce-exclusivity=unchecked)
