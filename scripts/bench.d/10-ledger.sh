#!/usr/bin/env bash
# Ledger: hold + capture cycles per second (shared/src/bin/bench-ledger.rs)
# against PostgreSQL's own pgbench TPC-B-like transactions per second, on the
# same server in the same run. A cycle is two money operations (a hold and its
# capture), a TPC-B transaction one, so the goals (issue #18) are cycles/s >=
# 0.5 x pgbench tps with 32 users, and >= half of that (0.25) with one user
# whose account pair all 32 tasks share.
#
# Runs from scripts/bench (ROOT, BENCH_BIN, BENCH_DATABASE_URL set). Both run
# in one scratch database, bench_ledger_run, dropped at the end (one DROP
# DATABASE costs a checkpoint, ~10 s on a busy machine). About 50 s.
set -euo pipefail

# services.sh (for apt_install) keeps its tools where scripts/bench does.
CACHE="${TGBOT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tgbot}"
# shellcheck source=scripts/lib/services.sh
source "$ROOT/scripts/lib/services.sh"
# shellcheck source=scripts/lib/bench.sh
source "$ROOT/scripts/lib/bench.sh"

PGBENCH_SCALE="${BENCH_LEDGER_PGBENCH_SCALE:-1}"
PGBENCH_CLIENTS=32
PGBENCH_THREADS=2
PGBENCH_SECONDS="${BENCH_LEDGER_PGBENCH_SECONDS:-15}"
# Enough cycles for a steady rate, few enough to stay well inside 90 s on a busy machine.
export BENCH_LEDGER_CYCLES="${BENCH_LEDGER_CYCLES:-2000}"
SCRATCH_DB=bench_ledger_run

# Debian ships pgbench with the server package, not with the client.
command -v pgbench >/dev/null || apt_install postgresql

url_of() {
    python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' \
        "$BENCH_DATABASE_URL" "$1"
}
SCRATCH_URL="$(url_of "$SCRATCH_DB")"

drop_scratch() {
    psql "$BENCH_DATABASE_URL" -qAtc "DROP DATABASE IF EXISTS $SCRATCH_DB WITH (FORCE)" >/dev/null 2>&1 || true
}
trap drop_scratch EXIT
drop_scratch
psql "$BENCH_DATABASE_URL" -qAtc "CREATE DATABASE $SCRATCH_DB" >/dev/null
server_version="$(psql "$BENCH_DATABASE_URL" -qAtc 'SHOW server_version' | cut -d' ' -f1)"

bench_log "ledger: pgbench -i -s $PGBENCH_SCALE, then -c $PGBENCH_CLIENTS -j $PGBENCH_THREADS -T $PGBENCH_SECONDS (PostgreSQL $server_version)"
pgbench -i -q -s "$PGBENCH_SCALE" "$SCRATCH_URL" >&2
pgbench_out="$(pgbench -c "$PGBENCH_CLIENTS" -j "$PGBENCH_THREADS" -T "$PGBENCH_SECONDS" "$SCRATCH_URL")"
tps="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$pgbench_out" | head -n 1)"
pgbench_transactions="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$pgbench_out")"
if [ -z "$tps" ]; then
    bench_log "ledger: pgbench printed no tps:"
    printf '%s\n' "$pgbench_out" >&2
    exit 1
fi
# pgbench's tables go; its database stays for bench-ledger (one DROP DATABASE, not two).
pgbench -i -I d "$SCRATCH_URL" >&2

bench_log "ledger: bench-ledger (hold + capture cycles, 32 tasks)"
ours="$(BENCH_LEDGER_DATABASE_URL="$SCRATCH_URL" "$BENCH_BIN/bench-ledger")"
field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$ours" "$1"; }

reference="pgbench TPC-B-like (PostgreSQL $server_version)"
details() {
    python3 - "$ours" "$1" <<PY
import json, sys
ours, which = json.loads(sys.argv[1]), sys.argv[2]
print(json.dumps({
    "cycles": ours["cycles_" + which], "seconds": ours["seconds_" + which],
    "tasks": ours["tasks"], "connections": ours["connections"], "operations_per_cycle": 2,
    "pgbench_scale": $PGBENCH_SCALE, "pgbench_clients": $PGBENCH_CLIENTS, "pgbench_threads": $PGBENCH_THREADS,
    "pgbench_seconds": $PGBENCH_SECONDS, "pgbench_transactions": int("${pgbench_transactions:-0}"),
}))
PY
}
bench_line ledger_hold_capture_32_users "cycles/s" higher "$(field holds_captures_per_s_32_users)" "$tps" \
    "$reference" ">=0.5" "$(details 32_users)"
bench_line ledger_hold_capture_1_user "cycles/s" higher "$(field holds_captures_per_s_1_user)" "$tps" \
    "$reference" ">=0.25" "$(details 1_user)"
