#!/usr/bin/env bash
# Queue: job intake (price, hold, job row, push) and the no-op drain of 2
# worker processes, ours (`bench-queue`) beside Celery 5 on the same Redis
# (scripts/bench.d/reference/celery_queue.py). Issue #18 point 3: each at
# least 5x Celery's figure, and at least 2,000 (intake) and 3,000 (drain)
# jobs/s. Everything it makes is named bench_queue* and removed on exit.
set -euo pipefail
# shellcheck source=scripts/lib/bench.sh
source "$ROOT/scripts/lib/bench.sh"

run="$(date +%s)_$$"
export BENCH_QUEUE_RUN="$run"
celery_prefix="bench_queue:celery:$run:"
redis_cli=(redis-cli -u "$BENCH_REDIS_URL")

cleanup() {
    "${redis_cli[@]}" --scan --pattern "bench_queue:*$run*" 2>/dev/null | xargs -r -n 500 "${redis_cli[@]}" unlink >/dev/null 2>&1 || true
    psql "$BENCH_DATABASE_URL" -qAtc "DROP DATABASE IF EXISTS \"bench_queue_$run\" WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

python="$(bench_python)"
celery_jobs="${BENCH_QUEUE_CELERY_JOBS:-4000}"

bench_log "queue: ours (bench-queue)"
ours="$("$BENCH_BIN/bench-queue")"
bench_log "queue: ours: $ours"
bench_log "queue: celery ($celery_jobs tasks, 2 worker processes)"
reference="$(BENCH_QUEUE_CELERY_PREFIX="$celery_prefix" "$python" "$ROOT/scripts/bench.d/reference/celery_queue.py" "$celery_jobs" 2)"
bench_log "queue: celery: $reference"

field() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
details() {
    python3 - "$ours" "$reference" "$1" <<'PY'
import json, sys
ours, ref, which = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
if which == "intake":
    out = {"goal_absolute": 2000, "met_absolute": ours["intake_jobs_per_s"] >= 2000,
           "jobs": ours["intake_jobs"], "tasks": ours["intake_tasks"], "users": ours["users"],
           "db_pool": ours["db_pool"], "create_ms_per_job": ours["create_ms_per_job"],
           "push_ms_per_job": ours["push_ms_per_job"], "holds_alone_per_s": ours["holds_alone_per_s"],
           "pushes_alone_per_s": ours["pushes_alone_per_s"],
           "hold_share": round(ours["intake_jobs_per_s"] / ours["holds_alone_per_s"], 3),
           "reference_jobs": ref["jobs"], "reference_client": "one process, apply_async in a loop"}
else:
    out = {"goal_absolute": 3000, "met_absolute": ours["drain_jobs_per_s"] >= 3000,
           "jobs": ours["drain_jobs"], "workers": ours["drain_workers"],
           "concurrency": ours["drain_concurrency"], "handled_twice": ours["handled_twice"],
           "reference_jobs": ref["jobs"], "reference_workers": ref["workers"],
           "reference_pool": "prefork, concurrency 1 per process, results in Redis",
           "reference_handled_twice": ref["handled_twice"]}
print(json.dumps(out))
PY
}

system="celery $(field "$reference" celery) (redis broker and result backend)"
bench_line queue_intake jobs/s higher "$(field "$ours" intake_jobs_per_s)" \
    "$(field "$reference" apply_async_per_s)" "$system" ">=5" "$(details intake)"
bench_line queue_drain_2_workers jobs/s higher "$(field "$ours" drain_jobs_per_s)" \
    "$(field "$reference" drain_jobs_per_s)" "$system" ">=5" "$(details drain)"
