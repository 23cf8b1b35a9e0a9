"""Retraining the ranker from its page: a background job whose progress the page shows."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.jobs import enqueue, task
from marketplace.models import BackgroundJob, JobState, User
from marketplace.services import ServiceError
from marketplace.services.accounts.audit import record
from marketplace.services.matching import ranker_versions

TASK = "ranker.train"
UNFINISHED = (JobState.PENDING, JobState.ENQUEUED, JobState.RUNNING)


def unfinished_training() -> BackgroundJob | None:
    """The training asked for and not finished yet, if any (one at a time is enough)."""
    return db.session.scalar(
        select(BackgroundJob)
        .where(BackgroundJob.task == TASK, BackgroundJob.state.in_(UNFINISHED))
        .order_by(BackgroundJob.id.desc())
        .limit(1)
    )


def request_training(actor: User) -> BackgroundJob:
    """Ask for a retraining; refused (409) while an earlier one has not finished."""
    running = unfinished_training()
    if running is not None:
        raise ServiceError(_l("A retraining is already under way."), 409)
    job = enqueue(TASK, {"actor_id": actor.id}, requested_by=actor)
    db.session.flush()
    record("ranker.training_requested", actor=actor, target=job)
    db.session.commit()
    return job


def training_job(job_id: int) -> BackgroundJob | None:
    """One retraining job (None for any other kind of job, so its id reveals nothing)."""
    job = db.session.get(BackgroundJob, job_id)
    return job if job is not None and job.task == TASK else None


def recent_trainings(limit: int = 5) -> list[BackgroundJob]:
    return list(
        db.session.scalars(
            select(BackgroundJob)
            .where(BackgroundJob.task == TASK)
            .order_by(BackgroundJob.id.desc())
            .limit(limit)
        )
    )


@task(TASK, max_attempts=1, lease=timedelta(hours=1), wants_job=True)
def train_job(job, actor_id: int | None = None) -> dict:
    """Train with the same code as `flask ranker train`, reporting each step."""
    actor = db.session.get(User, actor_id) if actor_id else None
    return ranker_versions.train(actor=actor, progress=job.progress)
