#!/usr/bin/env bash
# Idle memory: our bot and one worker process beside an idle aiogram 3 bot and an idle Celery
# worker, all started for real against the same PostgreSQL, Redis and fake Telegram.
#
# Each is started, given BENCH_FOOTPRINT_SETTLE seconds (5) after it is ready to settle, then its
# VmRSS is read from /proc/PID/status, summed over its whole process tree (a Celery worker with
# the default prefork pool is a parent and `--concurrency 2` children). PSS (shared pages divided
# among the processes that share them) is printed beside it, since RSS counts a page shared by a
# prefork parent and its children once per process.
#
# Prints idle_rss_bot_mb and idle_rss_worker_mb (scripts/lib/bench.sh's JSON lines). Everything it
# starts is stopped, and its database, Redis keys and files removed, however it ends.
set -euo pipefail
: "${ROOT:?run through scripts/bench}" "${BENCH_BIN:?}" "${BENCH_DATABASE_URL:?}" "${BENCH_REDIS_URL:?}"
# shellcheck source=scripts/lib/bench.sh
source "$ROOT/scripts/lib/bench.sh"
CACHE="${TGBOT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tgbot}"
# shellcheck source=scripts/lib/services.sh
source "$ROOT/scripts/lib/services.sh"

SETTLE="${BENCH_FOOTPRINT_SETTLE:-5}"
TOKEN="700000000:BENCH-footprint-token"
SECRET="bench_webhook_footprint"
NAMESPACE="bench_webhook_footprint"
DB="bench_webhook_footprint"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-footprint.XXXXXX")"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    psql "$BENCH_DATABASE_URL" -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    redis-cli -u "$BENCH_REDIS_URL" --scan --pattern "$NAMESPACE*" 2>/dev/null |
        xargs -r redis-cli -u "$BENCH_REDIS_URL" del >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
# A signal ends the script through `exit`, so the cleanup above runs then too.
trap 'exit 130' INT
trap 'exit 143' TERM

start() {
    local name="$1"; shift
    "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
}
# tree_memory PID: "RSS_KB PSS_KB PROCESSES" summed over PID and all its descendants.
tree_memory() {
    python3 - "$1" <<'PY'
import os, sys
def children(pid):
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return found
todo, rss, pss, count = [int(sys.argv[1])], 0, 0, 0
while todo:
    pid = todo.pop()
    try:
        with open(f"/proc/{pid}/status") as f:
            rss += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        with open(f"/proc/{pid}/smaps_rollup") as f:
            pss += next(int(l.split()[1]) for l in f if l.startswith("Pss:"))
    except (OSError, StopIteration):
        continue
    count += 1
    todo += children(pid)
print(rss, pss, count)
PY
}

TG_PORT="$(free_port)"
start fake-telegram env FAKE_TELEGRAM_TOKEN="$TOKEN" "$BENCH_BIN/fake-telegram" "127.0.0.1:$TG_PORT"
wait_until "the fake Telegram" curl -sf "http://127.0.0.1:$TG_PORT/_control/info"
S3_PORT="$(free_port)"
start_s3s "$S3_PORT" "$WORK/s3" bench-footprint bench-footprint-secret "$WORK/s3s.log"
PIDS+=("$S3_PID")
psql "$BENCH_DATABASE_URL" -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
psql "$BENCH_DATABASE_URL" -qAtc "CREATE DATABASE $DB" >/dev/null
DB_URL="$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p._replace(path="/" + sys.argv[2]).geturl())' "$BENCH_DATABASE_URL" "$DB")"
DATABASE_URL="$DB_URL" "$BENCH_BIN/migrate" >"$WORK/migrate.log" 2>&1 || { tail -n 20 "$WORK/migrate.log" >&2; exit 1; }

# Our processes read only what is given here (no .env: they start in $WORK). `env` execs the
# binary, so the PID recorded is the process measured.
OURS=(env -i -C "$WORK" PATH="$PATH" TELEGRAM_BOT_TOKEN="$TOKEN" TELEGRAM_API_URL="http://127.0.0.1:$TG_PORT"
    DATABASE_URL="$DB_URL" REDIS_URL="$BENCH_REDIS_URL" QUEUE_NAMESPACE="$NAMESPACE"
    S3_ENDPOINT="http://127.0.0.1:$S3_PORT" S3_BUCKET=bench-footprint S3_ACCESS_KEY_ID=bench-footprint
    S3_SECRET_ACCESS_KEY=bench-footprint-secret S3_FORCE_PATH_STYLE=true LOG_FORMAT=json)

# --- The bots, in webhook mode ------------------------------------------------------------
BOT_PORT="$(free_port)"
start bot "${OURS[@]}" TELEGRAM_MODE=webhook TELEGRAM_WEBHOOK_URL="http://127.0.0.1:$BOT_PORT/telegram/webhook" \
    TELEGRAM_WEBHOOK_SECRET="$SECRET" HTTP_ADDR="127.0.0.1:$BOT_PORT" "$BENCH_BIN/bot"
BOT_PID="${PIDS[-1]}"
wait_until "the bot" curl -sf "http://127.0.0.1:$BOT_PORT/health"

PYTHON="$(bench_python)"
AIOGRAM_PORT="$(free_port)"
start aiogram env BOT_TOKEN="$TOKEN" TELEGRAM_API_URL="http://127.0.0.1:$TG_PORT" DATABASE_URL="$DB_URL" \
    WEBHOOK_URL="http://127.0.0.1:$AIOGRAM_PORT/webhook" WEBHOOK_SECRET="$SECRET" PORT="$AIOGRAM_PORT" \
    "$PYTHON" "$ROOT/scripts/bench.d/reference/aiogram_bot.py"
AIOGRAM_PID="${PIDS[-1]}"
wait_until "the aiogram bot" curl -s -o /dev/null "http://127.0.0.1:$AIOGRAM_PORT/webhook"

# --- The workers --------------------------------------------------------------------------
WORKER_PORT="$(free_port)"
# Two jobs at once, as the Celery worker below has two pool processes.
start worker "${OURS[@]}" WORKER_CONCURRENCY=2 WORKER_HTTP_ADDR="127.0.0.1:$WORKER_PORT" "$BENCH_BIN/worker"
WORKER_PID="${PIDS[-1]}"
wait_until "the worker" curl -sf "http://127.0.0.1:$WORKER_PORT/health"

start celery env -C "$ROOT/scripts/bench.d/reference" BROKER_URL="$BENCH_REDIS_URL" \
    BROKER_PREFIX="${NAMESPACE}_celery:" "$(dirname "$PYTHON")/celery" -A celery_idle worker \
    --concurrency 2 --loglevel WARNING
CELERY_PID="${PIDS[-1]}"
# Ready once its pool is up: the parent has its two children.
celery_ready() { [ "$(tree_memory "$CELERY_PID" | cut -d' ' -f3)" -ge 3 ]; }
wait_until "the Celery worker" celery_ready

bench_log "all four are up; letting them settle for ${SETTLE} s"
sleep "$SETTLE"
read -r bot_rss bot_pss bot_n <<<"$(tree_memory "$BOT_PID")"
read -r aiogram_rss aiogram_pss aiogram_n <<<"$(tree_memory "$AIOGRAM_PID")"
read -r worker_rss worker_pss worker_n <<<"$(tree_memory "$WORKER_PID")"
read -r celery_rss celery_pss celery_n <<<"$(tree_memory "$CELERY_PID")"
mb() { python3 -c 'import sys; print(round(int(sys.argv[1]) / 1024, 1))' "$1"; }

bench_line idle_rss_bot_mb MB lower "$(mb "$bot_rss")" "$(mb "$aiogram_rss")" \
    "aiogram 3.22 webhook bot (aiohttp, asyncpg pool), one process" "<=0.33" \
    "{\"settle_s\": $SETTLE, \"pss_mb_ours\": $(mb "$bot_pss"), \"pss_mb_aiogram\": $(mb "$aiogram_pss"),
      \"processes_ours\": $bot_n, \"processes_aiogram\": $aiogram_n}"
bench_line idle_rss_worker_mb MB lower "$(mb "$worker_rss")" "$(mb "$celery_rss")" \
    "Celery 5.5.3 worker on Redis, prefork pool, --concurrency 2 (whole process tree)" "<=0.33" \
    "{\"settle_s\": $SETTLE, \"pss_mb_ours\": $(mb "$worker_pss"), \"pss_mb_celery\": $(mb "$celery_pss"),
      \"processes_ours\": $worker_n, \"processes_celery\": $celery_n, \"worker_concurrency_ours\": 2}"
