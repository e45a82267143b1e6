# shellcheck shell=bash
# Shared by the install-*.sh scripts (sourced, not run): Debian packages and pip.
# The sourcing script defines log and fail first.

# apt_install PACKAGE...: installs the packages not installed yet (with sudo when not root),
# refreshing the package lists once if the first attempt fails.
apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    command -v apt-get >/dev/null || fail "apt-get not found; please install: ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || fail "need root (or sudo) to install: ${missing[*]}"
        sudo=(sudo)
    fi
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
        log "apt-get install failed; refreshing package lists and retrying"
        "${sudo[@]}" apt-get update >&2 || fail "apt-get update failed"
        "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >&2 \
            || fail "could not install ${missing[*]}"
    fi
}

# find_pip: sets PIP to a pip command, installing python3-pip when there is none.
# shellcheck disable=SC2034  # PIP is for the sourcing script
find_pip() {
    if python3 -m pip --version >/dev/null 2>&1; then
        PIP=(python3 -m pip)
    elif command -v pip3 >/dev/null; then
        PIP=(pip3)
    else
        apt_install python3-pip
        PIP=(python3 -m pip)
    fi
}
