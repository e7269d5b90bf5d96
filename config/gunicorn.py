"""gunicorn settings for several worker processes sharing Prometheus counters.

With ``PROMETHEUS_MULTIPROC_DIR`` set, prometheus_client writes each worker's counters
to files in that directory and ``/metrics`` adds them up, whichever worker answers.
The directory must start empty (stale files would count twice) and a dead worker's
gauges must be dropped. Use: ``gunicorn -c config/gunicorn.py config.wsgi:application``.

Workers are threaded (``GUNICORN_THREADS``, default 4): a request waiting on the database,
Redis or a password hash leaves the other threads serving. Password hashing is capped per
process below that (``PASSWORD_HASH_CONCURRENCY``), so sign-ins can never hold every thread.
"""

import os
import shutil
from pathlib import Path
from typing import Any

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    from django.conf import settings

    cap = settings.PASSWORD_HASH_CONCURRENCY
    if cap <= 0 or cap >= worker.cfg.threads:
        worker.log.warning(
            "PASSWORD_HASH_CONCURRENCY=%s is not below the %s threads of a worker: password "
            "hashing can take every thread",
            cap,
            worker.cfg.threads,
        )
