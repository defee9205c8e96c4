# Sourced by the scripts: installs Debian packages that are missing, once, with apt-get.
# Usage: ensure_packages PACKAGE:FILE ...  (FILE proves the package is there)

ensure_packages() {
    local missing=() spec package file
    for spec in "$@"; do
        package=${spec%%:*}
        file=${spec#*:}
        [ -e "$file" ] || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
        sudo=(sudo)
    fi
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq >&2
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# What building chatd needs.
ensure_build_dependencies() {
    ensure_packages libev-dev:/usr/include/ev.h libsqlite3-dev:/usr/include/sqlite3.h libsodium-dev:/usr/include/sodium.h \
        libssl-dev:/usr/include/openssl/ssl.h libhiredis-dev:/usr/include/hiredis/adapters/libev.h
    command -v swift >/dev/null || { echo "swift is not on PATH (the toolchain is expected at /opt/swift)" >&2; return 1; }
}
