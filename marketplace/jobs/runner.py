"""Running one job: claim the row, call its task, record the outcome (retry with back-off).

Claiming is one conditional UPDATE, so when the same job is delivered twice (two schedulers, a
retried message, the relay re-sending after Redis lost it) exactly one delivery runs it; the
others find it claimed or finished and do nothing. A worker that dies mid-job leaves a lease
that expires, after which the relay sends the job again.
"""

import logging
from dataclasses import dataclass

from sqlalchemy import update

from marketplace.extensions import db
from marketplace.jobs.registry import TASKS, TaskSpec
from marketplace.models import BackgroundJob, JobState, utcnow

log = logging.getLogger(__name__)

_CLAIMABLE = (JobState.PENDING, JobState.ENQUEUED)
_ERROR_CHARS = 2000


@dataclass
class RunningJob:
    """What a task sees of its own job: its id, and a way to report progress."""

    id: int

    def progress(self, done: int, total: int, label: str = "") -> None:
        """Record progress on its own connection, so the page sees it while the job runs."""
        with db.engine.begin() as connection:
            connection.execute(
                update(BackgroundJob)
                .where(BackgroundJob.id == self.id)
                .values(progress={"done": done, "total": total, "label": label})
            )


def _claim(job_id: int) -> BackgroundJob | None:
    """Take the job if nobody holds it and it is due; None when another delivery has it."""
    now = utcnow()
    job = db.session.get(BackgroundJob, job_id)
    if job is None or job.task not in TASKS:
        db.session.rollback()
        return None
    lease_until = now + TASKS[job.task].lease
    claimable = BackgroundJob.state.in_(_CLAIMABLE) & (
        BackgroundJob.run_after.is_(None) | (BackgroundJob.run_after <= now)
    )
    lease_expired = (BackgroundJob.state == JobState.RUNNING) & (BackgroundJob.lease_until < now)
    claimed = db.session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id, claimable | lease_expired)
        .values(
            state=JobState.RUNNING,
            attempts=BackgroundJob.attempts + 1,
            started_at=now,
            lease_until=lease_until,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed:
        return None
    db.session.refresh(job)
    return job


def run(job_id: int) -> str:
    """Run the job once if it can be claimed; returns what happened (for logs and tests)."""
    job = _claim(job_id)
    if job is None:
        return "skipped"
    task = TASKS[job.task]
    payload, attempts = dict(job.payload or {}), job.attempts
    try:
        args = (RunningJob(job_id),) if task.wants_job else ()
        result = task.func(*args, **payload)
    except Exception as error:  # any failure of the task: record it and retry later
        db.session.rollback()
        log.exception("background job %s (%s) failed", job_id, task.name)
        return _failed(job_id, task, attempts, error)
    db.session.commit()  # whatever the task left open
    _finish(job_id, task, result)
    return "done"


def _finish(job_id: int, task: TaskSpec, result) -> None:
    values = {
        "state": JobState.DONE,
        "finished_at": utcnow(),
        "lease_until": None,
        "error": None,
        "result": result if isinstance(result, dict) else None,
    }
    if task.forget_payload:
        values["payload"] = {}
    _record(job_id, values)


def _failed(job_id: int, task: TaskSpec, attempts: int, error: Exception) -> str:
    gave_up = attempts >= task.max_attempts
    values = {
        "state": JobState.FAILED if gave_up else JobState.PENDING,
        "lease_until": None,
        "error": f"{type(error).__name__}: {error}"[:_ERROR_CHARS],
        "run_after": None if gave_up else utcnow() + task.backoff(attempts),
        "finished_at": utcnow() if gave_up else None,
    }
    _record(job_id, values)
    return "failed" if gave_up else "retry"


def _record(job_id: int, values: dict) -> None:
    """Write the job's outcome in its own commit."""
    db.session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
