"""Celery reference for the queue benchmark (scripts/bench.d/20-queue.sh).

The same work as `bench-queue` on the same Redis: a no-op task whose one
Redis round trip records its job id (HINCRBY), results stored in the Redis
result backend as Celery users run it. Every key lives under the prefix in
BENCH_QUEUE_CELERY_PREFIX (broker and result backend alike), so a run
touches nothing else and is removed by that prefix.

    python celery_queue.py JOBS WORKERS   # prints one JSON line

The same file is the Celery app the worker processes load (`celery -A
celery_queue worker`), configured from the environment.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import redis
from celery import Celery

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
PREFIX = os.environ.get("BENCH_QUEUE_CELERY_PREFIX", "bench_queue:celery:")
QUEUE = "bench_queue"

app = Celery("celery_queue", broker=REDIS_URL, backend=REDIS_URL)
app.conf.update(
    broker_transport_options={"global_keyprefix": PREFIX},
    result_backend_transport_options={"global_keyprefix": PREFIX},
    task_default_queue=QUEUE,
    task_ignore_result=False,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)

SEEN = PREFIX + "seen"
FIRST = PREFIX + "first"
_tally = None
_started = False


def tally():
    global _tally
    if _tally is None:
        _tally = redis.Redis.from_url(REDIS_URL)
    return _tally


@app.task(name="bench_queue.noop")
def noop(job_id):
    """The no-op job: one Redis round trip recording the job id."""
    global _started
    client = tally()
    if not _started:
        _started = True
        client.hset(FIRST, f"{os.getpid()}", time.time())
    client.hincrby(SEEN, job_id, 1)


def forget(client):
    keys = list(client.scan_iter(match=PREFIX + "*", count=1000))
    for start in range(0, len(keys), 1000):
        client.unlink(*keys[start : start + 1000])
    return len(keys)


def main():
    jobs, workers = int(sys.argv[1]), int(sys.argv[2])
    client = redis.Redis.from_url(REDIS_URL)
    forget(client)
    ids = [str(uuid.uuid4()) for _ in range(jobs)]

    started = time.time()
    results = [noop.apply_async((job_id,)) for job_id in ids]
    intake_s = time.time() - started

    here = os.path.dirname(os.path.abspath(__file__))
    # Root in a container is the usual case here; its warning is noise.
    env = dict(os.environ, PYTHONPATH=here + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONWARNINGS="ignore::UserWarning")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "celery_queue", "worker", "--pool", "prefork",
             "--concurrency", "1", "-Q", QUEUE, "-n", f"bench_queue_{n}_{os.getpid()}@%h",
             "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=here, env=env, stdout=subprocess.DEVNULL, stderr=sys.stderr,
        )
        for n in range(workers)
    ]
    try:
        deadline = time.time() + 150
        while client.hlen(SEEN) < jobs:
            if time.time() > deadline:
                raise SystemExit(f"celery drained {client.hlen(SEEN)} of {jobs} in time")
            time.sleep(0.002)
        # Done means the result is stored too (the task wrote its id just before).
        pending = [r.id for r in results]
        while True:
            meta = [PREFIX + "celery-task-meta-" + task_id for task_id in pending]
            pipe = client.pipeline(transaction=False)
            for key in meta:
                pipe.exists(key)
            pending = [task_id for task_id, there in zip(pending, pipe.execute()) if not there]
            if not pending:
                break
            time.sleep(0.002)
        last = time.time()
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    first = min(float(v) for v in client.hvals(FIRST))
    seen = {k.decode(): int(v) for k, v in client.hgetall(SEEN).items()}
    missing = sum(1 for job_id in ids if job_id not in seen)
    twice = sum(1 for n in seen.values() if n > 1)
    forget(client)
    if missing:
        raise SystemExit(f"celery lost {missing} of {jobs} tasks")
    print(json.dumps({
        "apply_async_per_s": round(jobs / intake_s, 1),
        "drain_jobs_per_s": round(jobs / (last - first), 1),
        "jobs": jobs,
        "workers": workers,
        "drain_wall_s": round(last - first, 3),
        "handled_twice": twice,
        "celery": __import__("celery").__version__,
    }), flush=True)


if __name__ == "__main__":
    main()
