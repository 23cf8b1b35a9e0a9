"""Celery on Redis carries job ids to workers; beat asks for the periodic work.

Why Celery: a mature, widely operated queue with a scheduler of its own (beat), late
acknowledgement (a job whose worker dies is delivered again) and a worker pool that isolates
memory-hungry jobs such as ranker training. The job's state lives in PostgreSQL, so Celery only
transports ids: losing a message costs a delay (the relay re-sends it), never the job.
"""

import logging
from datetime import timedelta

from celery import Celery, Task, shared_task
from celery.schedules import crontab
from flask import Flask, current_app
from kombu.exceptions import KombuError
from redis.exceptions import RedisError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from marketplace.extensions import db
from marketplace.jobs import runner
from marketplace.jobs.registry import spec
from marketplace.jobs.tracking import committed_job_ids
from marketplace.models import BackgroundJob, JobState, utcnow

log = logging.getLogger(__name__)

RUN_TASK = "marketplace.jobs.run"
RELAY_BATCH = 500
# A job sent this long ago and still not started is sent again (Redis may have lost it).
REQUEUE_AFTER = timedelta(minutes=10)
# The committing process sends its own jobs; the relay leaves them this long to do so.
SETTLE = timedelta(seconds=10)
# Publishing waits this long for Redis before the job is left to the relay.
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}

# Periodic work: task name -> (when, how a run's period is named so a copy is refused).
PERIODIC = {
    "suggestions.refresh_all": (crontab(hour=2, minute=0), "%Y-%m-%d"),
    "alerts.send_due": (crontab(minute=5), "%Y-%m-%dT%H"),
    "listings.expire": (crontab(minute=10), "%Y-%m-%dT%H"),
    "jobs.prune": (crontab(hour=3, minute=30), "%Y-%m-%d"),
}


def celery_init_app(app: Flask) -> Celery:
    """One Celery app per Flask app; every task runs inside the Flask app's context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_settings(app.config))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def celery_settings(config) -> dict:
    redis_url = config.get("REDIS_URL") or "memory://"
    return {
        "broker_url": redis_url,
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            # Longer than the longest job's lease, so an acknowledged-late job is not re-sent.
            "visibility_timeout": 7200,
            "socket_timeout": 2,
            "socket_connect_timeout": 2,
        },
        "task_publish_retry_policy": PUBLISH_RETRY,
        "timezone": "UTC",
        "beat_schedule": {
            "relay": {"task": "marketplace.jobs.relay", "schedule": 15.0},
            **{
                name: {"task": "marketplace.jobs.periodic", "schedule": when, "args": (name,)}
                for name, (when, _period) in PERIODIC.items()
            },
        },
    }


def push(job_ids: list[int]) -> int:
    """Send jobs to the queue; those Redis refuses stay pending for the relay. Returns sent."""
    sent = []
    for job_id in job_ids:
        try:
            current_app.extensions["celery"].send_task(
                RUN_TASK, (job_id,), retry=True, retry_policy=PUBLISH_RETRY
            )
        except (KombuError, RedisError, OSError) as error:
            log.warning("queue unavailable, job %s left for the relay: %s", job_id, error)
            break
        sent.append(job_id)
    if sent:
        db.session.execute(
            update(BackgroundJob)
            .where(BackgroundJob.id.in_(sent), BackgroundJob.state == JobState.PENDING)
            .values(state=JobState.ENQUEUED, enqueued_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return len(sent)


def due_job_ids(limit: int = RELAY_BATCH) -> list[int]:
    """Jobs to (re)send: due and never sent, sent long ago, or held by a worker that died."""
    now = utcnow()
    pending = (
        (BackgroundJob.state == JobState.PENDING)
        & (BackgroundJob.created_at < now - SETTLE)
        & (BackgroundJob.run_after.is_(None) | (BackgroundJob.run_after <= now))
    )
    lost = (BackgroundJob.state == JobState.ENQUEUED) & (
        BackgroundJob.enqueued_at < now - REQUEUE_AFTER
    )
    abandoned = (BackgroundJob.state == JobState.RUNNING) & (BackgroundJob.lease_until < now)
    ids = db.session.scalars(
        select(BackgroundJob.id)
        .where(pending | lost | abandoned)
        .order_by(BackgroundJob.id)
        .limit(limit)
    ).all()
    db.session.rollback()
    return list(ids)


def schedule_periodic(name: str, now=None) -> BackgroundJob | None:
    """Ask for this period's run of `name`; None when it was already asked for (a second beat)."""
    now = now or utcnow()
    _when, period = PERIODIC[name]
    job = BackgroundJob(
        task=spec(name).name,
        payload={},
        dedupe_key=f"{name}:{now.strftime(period)}",
        max_attempts=spec(name).max_attempts,
    )
    db.session.add(job)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return job


@shared_task(name=RUN_TASK)
def run_job(job_id: int) -> str:
    """Run one job, then send on the jobs it asked for (an alert run's e-mails)."""
    outcome = runner.run(job_id)
    follow_ups = committed_job_ids()
    if follow_ups:
        push(follow_ups)
    return outcome


@shared_task(name="marketplace.jobs.relay")
def relay() -> int:
    """Send what was committed but never reached the queue (Redis was down) or got lost."""
    ids = due_job_ids()
    return push(ids) if ids else 0


@shared_task(name="marketplace.jobs.periodic")
def periodic(name: str) -> int | None:
    """Beat's entry point: one job per period, however many schedulers ask."""
    job = schedule_periodic(name)
    if job is None:
        return None
    push(committed_job_ids())
    return job.id
