"""Asking for background work inside a transaction, and handing it over once that commits.

`enqueue` adds a job row to the current transaction: the work exists exactly when the write that
asked for it does. After the commit, `dispatch` hands the committed jobs to Celery (REDIS_URL set)
or runs them in this process (REDIS_URL unset: `make run`, the tests). A job whose hand-over fails
(Redis down) stays pending; the relay sends it when Redis answers again.
"""

from datetime import datetime

from flask import current_app

from marketplace.extensions import db
from marketplace.jobs import runner
from marketplace.jobs.queue import push
from marketplace.jobs.registry import spec
from marketplace.jobs.tracking import committed_job_ids
from marketplace.models import BackgroundJob

# Jobs that ask for more jobs (an alert run mails each digest) are followed this many rounds.
_MAX_ROUNDS = 5


def enqueue(
    task: str,
    payload: dict | None = None,
    *,
    dedupe_key: str | None = None,
    requested_by=None,
    run_after: datetime | None = None,
) -> BackgroundJob:
    """Add a job for `task` to the current transaction; it runs after the commit."""
    job = BackgroundJob(
        task=spec(task).name,
        payload=payload or {},
        dedupe_key=dedupe_key,
        max_attempts=spec(task).max_attempts,
        run_after=run_after,
        requested_by_id=getattr(requested_by, "id", None),
    )
    db.session.add(job)
    return job


def in_process() -> bool:
    """True when no queue is configured: jobs run in the process that committed them."""
    return not current_app.config.get("REDIS_URL")


def dispatch() -> None:
    """Hand the jobs committed so far to the queue, or run them here when there is none."""
    for _round in range(_MAX_ROUNDS):
        ids = committed_job_ids()
        if not ids:
            return
        if in_process():
            for job_id in ids:
                runner.run(job_id)
        else:
            push(ids)
            return
