"""What background jobs did: Celery signal receivers that record outcomes.

Every task's outcome (succeeded, failed, retried) is counted for ``/metrics``
(``core.metrics.count_task_outcome``, one Redis ``HINCRBY``). Runs of tasks declared
with ``record_runs=True`` (the scheduled jobs and broadcasts) and final failures of any
task are also kept as ``JobRun`` rows, which the weekly operations digest reads. Chosen
over django-celery-results: that stores every task's result (the access-record writer
runs many times a second) while only jobs and failures are worth a row here, and the
attempt count shows a job that was redelivered after its worker died.

Tasks also carry their actor: whoever was bound when a task was published (the signed-in
user of the request, the ``--actor`` of a command) travels in a message header and is
bound again in the worker around the task, so what the task changes is attributed to
that person, with the reason for change they gave. A task published by no one (beat)
runs as the named system actor ``system:<task name>:<os user>@<host>``.

Signals never carry domain logic; these only record, and never raise.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import signals
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.context import get_context, reset_context, set_context, system_username
from core.metrics import count_task_outcome
from core.models import JobRun

logger = logging.getLogger(__name__)

ERROR_MAX = 2000
ACTOR_HEADER = "pharma_actor"
_bound: dict[str, Any] = {}  # task id -> context token, reset after the task


def on_publish(sender: Any = None, headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    ctx = get_context()
    if headers is not None and ctx.username:
        headers[ACTOR_HEADER] = {
            "user_id": ctx.user_id,
            "username": ctx.username,
            "request_id": ctx.request_id,
            "change_reason": ctx.change_reason,
        }


def _published_actor(task: Any) -> dict[str, Any] | None:
    request = getattr(task, "request", None)
    actor = getattr(request, ACTOR_HEADER, None)
    if actor is None:
        actor = (getattr(request, "headers", None) or {}).get(ACTOR_HEADER)
    return actor if isinstance(actor, dict) else None


def bind_task_actor(sender: Any = None, task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    actor = _published_actor(task)
    ctx = get_context()
    if actor is None and ctx.username:
        return  # run in-process (eager): the caller's actor is bound already
    name = str(getattr(task, "name", "task")).rsplit(".", 1)[-1]
    token = set_context(
        type(ctx)(
            request_id=str((actor or {}).get("request_id") or task_id)[:64],
            user_id=(actor or {}).get("user_id"),
            username=str((actor or {}).get("username") or system_username(name))[:150],
            path=f"task {getattr(task, 'name', '')}"[:1024],
            change_reason=str((actor or {}).get("change_reason") or "")[:2000],
        )
    )
    _bound[task_id] = token


def unbind_task_actor(sender: Any = None, task_id: str = "", **kwargs: Any) -> None:
    token = _bound.pop(task_id, None)
    if token is not None:
        reset_context(token)


def _recorded(task: Any) -> bool:
    return bool(getattr(task, "record_runs", False))


def _hostname(task: Any) -> str:
    return str(getattr(getattr(task, "request", None), "hostname", "") or "")[:200]


def _safely(action: str, task_id: Any, write: Any) -> None:
    try:
        with transaction.atomic():
            write()
    except Exception:
        logger.exception("job_run_not_recorded", extra={"action": action, "task_id": task_id})


def on_prerun(sender: Any = None, task_id: str = "", task: Any = None, **kwargs: Any) -> None:
    if not _recorded(task):
        return

    def write() -> None:
        run, _ = JobRun.objects.get_or_create(
            task_id=task_id, defaults={"task_name": task.name[:200]}
        )
        JobRun.objects.filter(pk=run.pk).update(
            attempts=F("attempts") + 1,
            state=JobRun.State.STARTED,
            started_at=timezone.now(),
            finished_at=None,
            worker=_hostname(task),
        )

    _safely("prerun", task_id, write)


def _finish(task: Any, task_id: str, state: str, error: str = "") -> None:
    def write() -> None:
        now = timezone.now()
        run, created = JobRun.objects.get_or_create(
            task_id=task_id,
            defaults={
                "task_name": task.name[:200],
                "attempts": 1,
                "started_at": now,
                "worker": _hostname(task),
            },
        )
        runtime = (now - run.started_at).total_seconds() if run.started_at else None
        JobRun.objects.filter(pk=run.pk).update(
            state=state, finished_at=now, runtime_seconds=runtime, error=error[:ERROR_MAX]
        )

    _safely(state, task_id, write)


def on_success(sender: Any = None, **kwargs: Any) -> None:
    count_task_outcome(sender.name, "succeeded")
    if _recorded(sender):
        _finish(sender, sender.request.id, JobRun.State.SUCCEEDED)


def on_failure(
    sender: Any = None, task_id: str = "", exception: BaseException | None = None, **kwargs: Any
) -> None:
    count_task_outcome(sender.name, "failed")
    _finish(sender, task_id, JobRun.State.FAILED, f"{type(exception).__name__}: {exception}")


def on_retry(sender: Any = None, request: Any = None, reason: Any = None, **kwargs: Any) -> None:
    count_task_outcome(sender.name, "retried")
    if _recorded(sender) and request is not None:
        _finish(sender, request.id, JobRun.State.RETRYING, str(reason))


def connect() -> None:
    signals.before_task_publish.connect(on_publish, dispatch_uid="core_jobs_actor", weak=False)
    signals.task_prerun.connect(bind_task_actor, dispatch_uid="core_jobs_bind", weak=False)
    signals.task_postrun.connect(unbind_task_actor, dispatch_uid="core_jobs_unbind", weak=False)
    signals.task_prerun.connect(on_prerun, dispatch_uid="core_jobs_prerun", weak=False)
    signals.task_success.connect(on_success, dispatch_uid="core_jobs_success", weak=False)
    signals.task_failure.connect(on_failure, dispatch_uid="core_jobs_failure", weak=False)
    signals.task_retry.connect(on_retry, dispatch_uid="core_jobs_retry", weak=False)
