"""Tags the wheel for the platform its binaries need instead of hatchling's pure-Python default.

The binaries call no Python, so the tag is py3-none-PLATFORM; PLATFORM (for example
manylinux_2_34_x86_64) comes from scripts/package.sh, which reads the newest glibc symbol
version the binaries use. Building without it is refused: an untagged wheel would claim to
install anywhere.
"""

import os

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class PlatformTagHook(BuildHookInterface):
    def initialize(self, version, build_data):
        platform = os.environ.get("SWIFT_PERF_ANALYZER_WHEEL_PLATFORM", "")
        if not platform:
            raise RuntimeError(
                "SWIFT_PERF_ANALYZER_WHEEL_PLATFORM is not set: build this wheel with scripts/package.sh"
            )
        build_data["pure_python"] = False
        build_data["tag"] = f"py3-none-{platform}"
