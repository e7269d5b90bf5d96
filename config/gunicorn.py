"""gunicorn settings for several worker processes sharing Prometheus counters.

With ``PROMETHEUS_MULTIPROC_DIR`` set, prometheus_client writes each worker's counters
to files in that directory and ``/metrics`` adds them up, whichever worker answers.
The directory must start empty (stale files would count twice) and a dead worker's
gauges must be dropped. Use: ``gunicorn -c config/gunicorn.py config.wsgi:application``.
"""

import os
import shutil
from pathlib import Path
from typing import Any


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
