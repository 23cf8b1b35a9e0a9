"""What /healthz says about Redis and the job queue (the database is checked by the view)."""

from datetime import timedelta

import redis
from flask import current_app
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import BackgroundJob, JobState, utcnow

_WAITING = (JobState.PENDING, JobState.ENQUEUED)


def redis_state() -> str:
    """ "up", "down", or "not configured" (jobs then run in the web process)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "not configured"
    client = current_app.extensions.get("health_redis")
    if client is None:
        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        current_app.extensions["health_redis"] = client
    try:
        client.ping()
    except redis.RedisError:
        return "down"
    return "up"


def queue_state() -> dict:
    """How much work waits, how long the oldest has waited, how many jobs gave up in a day."""
    now = utcnow()
    waiting, oldest = db.session.execute(
        select(func.count(), func.min(BackgroundJob.created_at)).where(
            BackgroundJob.state.in_(_WAITING),
            BackgroundJob.run_after.is_(None) | (BackgroundJob.run_after <= now),
        )
    ).one()
    failed = db.session.scalar(
        select(func.count()).where(
            BackgroundJob.state == JobState.FAILED,
            BackgroundJob.finished_at >= now - timedelta(days=1),
        )
    )
    if oldest is not None and oldest.tzinfo is None:  # SQLite forgets the zone in aggregates
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return {
        "mode": "in-process" if not current_app.config.get("REDIS_URL") else "celery",
        "waiting": waiting,
        "oldest_waiting_s": round((now - oldest).total_seconds()) if oldest else 0,
        "failed_last_day": failed,
    }
