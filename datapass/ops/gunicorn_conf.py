"""gunicorn settings for the web container: `gunicorn -c python:datapass.ops.gunicorn_conf`."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then: bounds the memory a leak could take. Not too often: a worker
# boots in about 2 s of CPU, and producers introspect hundreds of times a second (bench/README.md:
# at 2,000 requests each worker restarted every 2 s of that load).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = max_requests // 10
accesslog = None  # datapass.access logs each request, as JSON with its request id
errorlog = "-"


def child_exit(server, worker) -> None:
    """Drop the dead worker's live gauges from the shared metrics folder."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        from datapass.ops.metrics import process_identifier

        multiprocess.mark_process_dead(process_identifier(worker.pid))
