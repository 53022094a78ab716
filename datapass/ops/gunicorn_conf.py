"""gunicorn settings for the web container: `gunicorn -c python:datapass.ops.gunicorn_conf`."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then: bounds the memory a leak could take.
max_requests = 2000
max_requests_jitter = 200
accesslog = None  # datapass.access logs each request, as JSON with its request id
errorlog = "-"


def child_exit(server, worker) -> None:
    """Drop the dead worker's live gauges from the shared metrics folder."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        from datapass.ops.metrics import process_identifier

        multiprocess.mark_process_dead(process_identifier(worker.pid))
