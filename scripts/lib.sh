# Shared by scripts/run and scripts/test: install what a fresh Debian/Ubuntu
# machine with Rust lacks, and pick a target directory PostgreSQL can reach.

set -euo pipefail

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

is_root() { [ "$(id -u)" = "0" ]; }

# apt_install PKG... — as root directly, otherwise print the exact sudo command.
apt_install() {
    if is_root; then
        log "installing $* (Debian packages)"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
    else
        printf 'etal needs these Debian packages: %s\nInstall them with:\n\n    sudo apt-get update && sudo apt-get install -y %s\n\nthen run this command again.\n' "$*" "$*" >&2
        exit 1
    fi
}

have_postgres_server() {
    command -v initdb >/dev/null 2>&1 && return 0
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

ensure_postgres() {
    have_postgres_server || apt_install postgresql
    have_postgres_server || { echo "PostgreSQL server binaries still missing after install" >&2; exit 1; }
    if is_root && ! id postgres >/dev/null 2>&1; then
        echo "running as root needs the 'postgres' system user (created by the postgresql package)" >&2
        exit 1
    fi
}

have_nats_server() {
    command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || [ -x /usr/bin/nats-server ]
}

# The message bus of a cluster of etal nodes (scripts/cluster, the
# three-node tests).
ensure_nats() {
    have_nats_server || apt_install nats-server
    have_nats_server || { echo "nats-server still missing after install" >&2; exit 1; }
}

have_chromium() {
    { command -v chromium >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromium ]; } &&
        { command -v chromedriver >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromedriver ]; }
}

# The browser tests (tests/browser) drive headless Chromium through
# chromedriver; a font package so their screenshots are legible.
ensure_chromium() {
    have_chromium || apt_install chromium chromium-driver fonts-liberation
    have_chromium || { echo "chromium and chromedriver still missing after install" >&2; exit 1; }
}

# schemathesis (tests/contract) in a virtual environment under the target
# directory, pinned by scripts/schemathesis.txt; reinstalled when the pins change.
ensure_schemathesis() {
    local venv stamp pins
    venv="$(target_dir)/schemathesis"
    pins="scripts/schemathesis.txt"
    stamp="$(sha256sum "$pins" | cut -c1-16)"
    if [ -x "$venv/bin/schemathesis" ] && [ "$(cat "$venv/.pins" 2>/dev/null)" = "$stamp" ]; then
        return 0
    fi
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
    python3 -m venv --help >/dev/null 2>&1 || apt_install python3-venv
    log "installing schemathesis (pinned, in $venv)"
    rm -rf "$venv"
    python3 -m venv "$venv" || { apt_install python3-venv && python3 -m venv "$venv"; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check --require-virtualenv -r "$pins"
    printf '%s' "$stamp" > "$venv/.pins"
}

# As root, PostgreSQL runs as the `postgres` user, which must be able to walk
# into the data directory. When the checkout lives somewhere it cannot (e.g.
# under /root), build and keep the test clusters in a reachable place.
ensure_reachable_target() {
    if is_root && [ -z "${CARGO_TARGET_DIR:-}" ]; then
        if ! runuser -u postgres -- test -x "$PWD" 2>/dev/null; then
            export CARGO_TARGET_DIR="/var/tmp/etal-target-$(printf '%s' "$PWD" | sha256sum | cut -c1-12)"
            log "the postgres user cannot reach $PWD; using CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
        fi
    fi
}

target_dir() { printf '%s' "${CARGO_TARGET_DIR:-$PWD/target}"; }

# The release build every command shares: the whole workspace at once, so
# dependencies get one feature set. Building `--bin etal` alone resolved
# other features for shared crates, and the next workspace build (the load
# tester's) rebuilt some 60 of them, and the other way round.
build_release() {
    cargo build --release --locked --workspace
}
