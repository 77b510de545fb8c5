#!/usr/bin/env bash
# Bot throughput in webhook mode beside an aiogram 3 bot, and the YooKassa notification endpoint.
#
# One fake Telegram (testkit's `fake-telegram`) serves both bots; both read PostgreSQL (each its
# own scratch database) and answer `/balance` from 1,000 users with one sendMessage. `bench-http`
# (testkit/src/bin/bench-http.rs) drives both the same way: BENCH_BOT_CONNECTIONS keep-alive
# connections (40, Telegram's default `max_connections` for a webhook), each sending its next
# update once the previous one is answered, for BENCH_BOT_SECONDS after a warm-up pass of one
# update per user (a user's first update creates their row: that pass is not measured).
# Then payments opened through the bot's own checkout path are marked paid at the fake YooKassa
# and their notifications are sent to the bot, 20 % of them twice.
#
# Prints bot_webhook_balance_updates_per_s, bot_webhook_balance_p99_ms and
# yookassa_notifications_per_s (scripts/lib/bench.sh's JSON lines). Everything it starts is
# stopped, and its databases, Redis keys and files removed, however it ends.
set -euo pipefail
: "${ROOT:?run through scripts/bench}" "${BENCH_BIN:?}" "${BENCH_DATABASE_URL:?}" "${BENCH_REDIS_URL:?}"
# shellcheck source=scripts/lib/bench.sh
source "$ROOT/scripts/lib/bench.sh"
CACHE="${TGBOT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tgbot}"
# shellcheck source=scripts/lib/services.sh
source "$ROOT/scripts/lib/services.sh"

USERS=1000
FIRST_USER=700000001
CONNECTIONS="${BENCH_BOT_CONNECTIONS:-40}"
SECONDS_PER_RUN="${BENCH_BOT_SECONDS:-10}"
PAYMENTS="${BENCH_YOOKASSA_PAYMENTS:-8000}"
REPEAT=0.2
TOKEN="700000000:BENCH-webhook-token"
SECRET="bench_webhook_secret"
NAMESPACE="bench_webhook"
DB_OURS="bench_webhook_bot"
DB_AIOGRAM="bench_webhook_aiogram"
SHOP=bench_shop
SHOP_SECRET=bench_shop_secret

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-webhook.XXXXXX")"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    for db in "$DB_OURS" "$DB_AIOGRAM"; do
        psql "$BENCH_DATABASE_URL" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
    redis-cli -u "$BENCH_REDIS_URL" --scan --pattern "$NAMESPACE*" 2>/dev/null |
        xargs -r redis-cli -u "$BENCH_REDIS_URL" del >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
# A signal ends the script through `exit`, so the cleanup above runs then too.
trap 'exit 130' INT
trap 'exit 143' TERM

# The superuser URL with another database.
database_url() {
    python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p._replace(path="/" + sys.argv[2]).geturl())' \
        "$BENCH_DATABASE_URL" "$1"
}
fresh_database() {
    psql "$BENCH_DATABASE_URL" -qAtc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
    psql "$BENCH_DATABASE_URL" -qAtc "CREATE DATABASE $1" >/dev/null
}
# start NAME COMMAND...: runs it in the background, logging to $WORK/NAME.log.
start() {
    local name="$1"; shift
    "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
}
# A field of the JSON line in $1.
field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
# drive URL FIRST_UPDATE [SECONDS|--requests N]: /balance from every user; prints bench-http's line.
drive_balance() {
    local url="$1" first_update="$2"; shift 2
    "$BENCH_BIN/bench-http" run --url "$url" --concurrency "$CONNECTIONS" "$@" \
        --header "X-Telegram-Bot-Api-Secret-Token: $SECRET" \
        --balance "$USERS" --first-user "$FIRST_USER" --first-update "$first_update"
}

# --- The fakes and storage ------------------------------------------------------------------
TG_PORT="$(free_port)"
start fake-telegram env FAKE_TELEGRAM_TOKEN="$TOKEN" "$BENCH_BIN/fake-telegram" "127.0.0.1:$TG_PORT"
YK_PORT="$(free_port)"
start fake-yookassa env FAKE_YOOKASSA_SHOP_ID="$SHOP" FAKE_YOOKASSA_SECRET_KEY="$SHOP_SECRET" RUST_LOG=warn \
    "$BENCH_BIN/fake-yookassa" "127.0.0.1:$YK_PORT"
wait_until "the fake Telegram" curl -sf "http://127.0.0.1:$TG_PORT/_control/info"
wait_until "the fake YooKassa" curl -s -o /dev/null "http://127.0.0.1:$YK_PORT/checkout/none"
"$BENCH_BIN/bench-http" telegram-users --fake "http://127.0.0.1:$TG_PORT" --users "$USERS" --first-user "$FIRST_USER"
S3_PORT="$(free_port)"
start_s3s "$S3_PORT" "$WORK/s3" bench-webhook bench-webhook-secret "$WORK/s3s.log"
PIDS+=("$S3_PID")

# --- Our bot --------------------------------------------------------------------------------
fresh_database "$DB_OURS"
OURS_URL="$(database_url "$DB_OURS")"
DATABASE_URL="$OURS_URL" "$BENCH_BIN/migrate" >"$WORK/migrate.log" 2>&1 || { tail -n 20 "$WORK/migrate.log" >&2; exit 1; }
BOT_PORT="$(free_port)"
# The fake Telegram sets no limits, so the client's overall pacing (Telegram's 30 messages a second)
# is raised to stay out of the way, as is the per-user message limit: 1,000 users each send far more
# than 20 updates a minute here. Both checks still run for every update.
# Started in $WORK, so no .env of the checkout is read.
start bot env -i -C "$WORK" PATH="$PATH" \
    TELEGRAM_BOT_TOKEN="$TOKEN" TELEGRAM_API_URL="http://127.0.0.1:$TG_PORT" \
    TELEGRAM_MODE=webhook TELEGRAM_WEBHOOK_URL="http://127.0.0.1:$BOT_PORT/telegram/webhook" \
    TELEGRAM_WEBHOOK_SECRET="$SECRET" TELEGRAM_MESSAGES_PER_SECOND=1000000 MAX_MESSAGES_PER_MINUTE=1000000 \
    DATABASE_URL="$OURS_URL" REDIS_URL="$BENCH_REDIS_URL" QUEUE_NAMESPACE="$NAMESPACE" \
    S3_ENDPOINT="http://127.0.0.1:$S3_PORT" S3_BUCKET=bench-webhook S3_ACCESS_KEY_ID=bench-webhook \
    S3_SECRET_ACCESS_KEY=bench-webhook-secret S3_FORCE_PATH_STYLE=true \
    YOOKASSA_SHOP_ID="$SHOP" YOOKASSA_SECRET_KEY="$SHOP_SECRET" YOOKASSA_API_URL="http://127.0.0.1:$YK_PORT/v3" \
    YOOKASSA_RETURN_URL="https://t.me/bench_bot" YOOKASSA_NOTIFY_IPS=127.0.0.1/32 \
    HTTP_ADDR="127.0.0.1:$BOT_PORT" LOG_FORMAT=json "$BENCH_BIN/bot"
if ! wait_until "the bot" curl -sf "http://127.0.0.1:$BOT_PORT/health"; then
    tail -n 20 "$WORK/bot.log" >&2
    exit 1
fi
# Registered the webhook and published its menu: it is ready for updates.
wait_until "the bot's webhook" grep -q "receiving updates by webhook" "$WORK/bot.log"
BOT_HOOK="http://127.0.0.1:$BOT_PORT/telegram/webhook"
bench_log "our bot: warm-up (one update per user), then ${SECONDS_PER_RUN} s over $CONNECTIONS connections"
drive_balance "$BOT_HOOK" 1 --requests "$USERS" >/dev/null
OURS="$(drive_balance "$BOT_HOOK" 1000001 --seconds "$SECONDS_PER_RUN")"
bench_log "ours: $OURS"

# --- aiogram --------------------------------------------------------------------------------
PYTHON="$(bench_python)"
fresh_database "$DB_AIOGRAM"
AIOGRAM_URL="$(database_url "$DB_AIOGRAM")"
psql "$AIOGRAM_URL" -qAt >/dev/null <<SQL
CREATE TABLE balances (telegram_id bigint PRIMARY KEY, available numeric(20, 2) NOT NULL, held numeric(20, 2) NOT NULL);
INSERT INTO balances SELECT g, 0, 0 FROM generate_series($FIRST_USER, $FIRST_USER + $USERS - 1) AS g;
SQL
AIOGRAM_PORT="$(free_port)"
start aiogram env BOT_TOKEN="$TOKEN" TELEGRAM_API_URL="http://127.0.0.1:$TG_PORT" DATABASE_URL="$AIOGRAM_URL" \
    WEBHOOK_URL="http://127.0.0.1:$AIOGRAM_PORT/webhook" WEBHOOK_SECRET="$SECRET" PORT="$AIOGRAM_PORT" \
    "$PYTHON" "$ROOT/scripts/bench.d/reference/aiogram_bot.py"
AIOGRAM_PID="${PIDS[-1]}"
wait_until "the aiogram bot" curl -s -o /dev/null "http://127.0.0.1:$AIOGRAM_PORT/webhook"
AIOGRAM_HOOK="http://127.0.0.1:$AIOGRAM_PORT/webhook"
bench_log "aiogram: warm-up, then ${SECONDS_PER_RUN} s over $CONNECTIONS connections"
drive_balance "$AIOGRAM_HOOK" 1 --requests "$USERS" >/dev/null
THEIRS="$(drive_balance "$AIOGRAM_HOOK" 1000001 --seconds "$SECONDS_PER_RUN")"
bench_log "aiogram: $THEIRS"
kill "$AIOGRAM_PID" 2>/dev/null || true

# --- YooKassa notifications -----------------------------------------------------------------
bench_log "opening $PAYMENTS YooKassa payments through the bot's checkout path"
"$BENCH_BIN/bench-http" yookassa-payments --database-url "$OURS_URL" --api "http://127.0.0.1:$YK_PORT/v3" \
    --shop "$SHOP" --secret "$SHOP_SECRET" --payments "$PAYMENTS" --users "$USERS" --out "$WORK/payments.txt"
NOTIFY="$("$BENCH_BIN/bench-http" run --url "http://127.0.0.1:$BOT_PORT/webhooks/yookassa" \
    --concurrency "$CONNECTIONS" --seconds "$SECONDS_PER_RUN" --yookassa "$WORK/payments.txt" --repeat "$REPEAT")"
bench_log "notifications: $NOTIFY"
credited="$(psql "$OURS_URL" -qAtc "SELECT count(*) FROM payments WHERE provider = 'yookassa' AND status = 'succeeded'")"
handler_errors="$(grep -c '"level":"ERROR"' "$WORK/bot.log" || true)"
aiogram_errors="$(grep -c 'ERROR' "$WORK/aiogram.log" || true)"

# --- Results --------------------------------------------------------------------------------
python3 - "$OURS" "$THEIRS" "$NOTIFY" "$credited" "$handler_errors" "$aiogram_errors" "$CONNECTIONS" >"$WORK/lines" <<'PY'
import json, sys
ours, theirs, notify = (json.loads(a) for a in sys.argv[1:4])
credited, handler_errors, aiogram_errors, connections = (int(a) for a in sys.argv[4:8])
common = {"users": 1000, "connections": connections, "updates_ours": ours["requests"],
          "updates_aiogram": theirs["requests"], "failed_ours": ours["failed"], "failed_aiogram": theirs["failed"],
          "handler_errors_ours": handler_errors, "errors_aiogram": aiogram_errors,
          "p50_ms_ours": ours["p50_ms"], "p50_ms_aiogram": theirs["p50_ms"],
          "max_ms_ours": ours["max_ms"], "max_ms_aiogram": theirs["max_ms"]}
print(json.dumps(["bot_webhook_balance_updates_per_s", "updates/s", "higher", ours["per_s"], theirs["per_s"], ">=5",
                  dict(common, p99_ms_ours=ours["p99_ms"], p99_ms_aiogram=theirs["p99_ms"])]))
print(json.dumps(["bot_webhook_balance_p99_ms", "ms", "lower", ours["p99_ms"], theirs["p99_ms"], "<=1",
                  dict(common, per_s_ours=ours["per_s"], per_s_aiogram=theirs["per_s"])]))
print(json.dumps(["yookassa_notifications_per_s", "req/s", "higher", notify["per_s"], None, "",
                  {"connections": connections, "requests": notify["requests"], "failed": notify["failed"],
                   "statuses": notify["statuses"], "repeat_share": 0.2, "payments_credited": credited,
                   "p50_ms": notify["p50_ms"], "p99_ms": notify["p99_ms"], "max_ms": notify["max_ms"],
                   "repeats": notify.get("repeats", 0), "repeats_p50_ms": notify.get("repeats_p50_ms"),
                   "repeats_p99_ms": notify.get("repeats_p99_ms"),
                   "goal_per_s": 5000, "goal_per_s_met": notify["per_s"] >= 5000,
                   "goal_p99_ms": 20, "goal_p99_met": notify["p99_ms"] < 20}]))
PY
while IFS= read -r line; do
    mapfile -t args < <(python3 -c 'import json, sys
name, unit, better, ours, ref, goal, extra = json.loads(sys.argv[1])
for a in (name, unit, better, ours, "null" if ref is None else ref, "aiogram 3.22 + asyncpg, one process" if ref is not None else "", goal, json.dumps(extra)): print(a)' "$line")
    bench_line "${args[@]}"
done <"$WORK/lines"
