# shellcheck shell=bash
# Service start-up shared by scripts/test and scripts/run: Debian packages,
# PostgreSQL, Redis and s3s-fs (a Rust S3 server storing objects in a folder).
# Sourced, not run. The caller sets ROOT and CACHE and has `set -euo pipefail`.

TOOLS="$CACHE/tools"
mkdir -p "$CACHE" "$TOOLS"

# s3s-fs 0.14 is the newest release that builds with our pinned Rust 1.95.
S3S_VERSION="0.14.1"
S3S="$TOOLS/bin/s3s-fs"

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=""
apt_install() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    if [ -z "$APT_UPDATED" ]; then
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    # Packages' own service start-up fails without an init system; we start
    # the services ourselves below.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

wait_until() {
    local what="$1"; shift
    for _ in $(seq 1 60); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    log "$what did not come up"
    return 1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The clients both scripts use to see whether the servers answer.
install_service_clients() {
    command -v pg_isready >/dev/null || apt_install postgresql-client
    command -v redis-cli >/dev/null || apt_install redis-tools
}

# ensure_postgres URL: uses a server answering at URL (a superuser's URL); otherwise
# installs Debian's PostgreSQL if needed and starts its newest cluster.
ensure_postgres() {
    local url="$1"
    pg_up() { pg_isready -q -d "$url" && psql "$url" -qAtc 'SELECT 1' >/dev/null; }
    if ! pg_up 2>/dev/null; then
        log "PostgreSQL is not reachable at $url: starting it"
        apt_install postgresql
        local version
        version="$(ls /etc/postgresql | sort -V | tail -n 1)"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        wait_until "PostgreSQL" pg_isready -q -h 127.0.0.1 -p 5432
        # Debian's default authentication wants a password over TCP: give the
        # postgres role the one our URL carries (harmless where trust is set).
        if ! pg_up 2>/dev/null; then
            (cd / && as_root runuser -u postgres -- psql -qc "ALTER USER postgres PASSWORD 'postgres'")
        fi
        pg_up
    fi
    log "PostgreSQL is up"
}

# ensure_redis URL [redis-server options...]: uses a server answering at URL; otherwise
# installs and starts one on 127.0.0.1:6379 (data and log in $CACHE/redis), with the options given.
ensure_redis() {
    local url="$1"; shift
    redis_up() { [ "$(redis-cli -u "$url" ping 2>/dev/null)" = "PONG" ]; }
    if ! redis_up; then
        log "Redis is not reachable at $url: starting it"
        apt_install redis-server
        mkdir -p "$CACHE/redis"
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 \
            --dir "$CACHE/redis" --logfile "$CACHE/redis/redis.log" "$@"
        wait_until "Redis" redis_up
    fi
    log "Redis is up"
}

# Builds s3s-fs into $TOOLS once per machine.
install_s3s() {
    if [ ! -x "$S3S" ] || ! "$S3S" --version 2>/dev/null | grep -q "$S3S_VERSION"; then
        log "building s3s-fs $S3S_VERSION (once per machine)"
        # Built outside the workspace so our rust-toolchain.toml and lock file do not apply to it.
        (cd "$TOOLS" && cargo install --quiet --locked --root "$TOOLS" --target-dir "$CACHE/s3s-target" \
            "s3s-fs@$S3S_VERSION" --features binary)
    fi
}

# start_s3s PORT DATA_DIR ACCESS_KEY SECRET_KEY LOG: starts s3s-fs in the background on
# 127.0.0.1:PORT with SigV4 authentication on, sets S3_PID, and waits until it answers.
start_s3s() {
    local port="$1" data="$2" access_key="$3" secret_key="$4" logfile="$5"
    install_s3s
    mkdir -p "$data"
    "$S3S" --host 127.0.0.1 --port "$port" --access-key "$access_key" --secret-key "$secret_key" \
        "$data" >"$logfile" 2>&1 &
    S3_PID=$!
    # Any HTTP answer (403 for an unsigned request) means it is listening.
    if ! wait_until "s3s-fs" curl -s -o /dev/null "http://127.0.0.1:$port/"; then
        tail -n 20 "$logfile" >&2 || true
        return 1
    fi
    log "S3 server (s3s-fs) is up at http://127.0.0.1:$port"
}
