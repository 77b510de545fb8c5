"""The reference worker for scripts/bench.d/50-footprint.sh: a minimal Celery app on Redis.

Run the way Celery users run a worker (`celery -A celery_idle worker`, the default prefork pool,
`--concurrency 2`); it is measured idle, its whole process tree counted. BROKER_URL names the
Redis database and key prefix it uses.
"""

import os

from celery import Celery

app = Celery("celery_idle", broker=os.environ["BROKER_URL"])
app.conf.broker_transport_options = {"global_keyprefix": os.environ.get("BROKER_PREFIX", "bench_webhook_celery:")}


@app.task
def transcribe(job_id: str) -> str:
    return job_id
