"""Background jobs: one row per piece of work, written in the transaction that asks for it.

The row is the job's truth (state, attempts, progress, result); Celery on Redis only carries its id
to a worker. A job asked for by a write that rolls back never exists; one whose message is lost
(Redis down, restarted without its data) is sent again by the relay; one that is sent twice runs
once, because a worker must first claim the row.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.models.base import Base, enum_column, utcnow


class JobState(StrEnum):
    PENDING = "pending"  # committed, not yet handed to the queue (or waiting for a retry)
    ENQUEUED = "enqueued"  # handed to the queue
    RUNNING = "running"  # claimed by a worker until lease_until
    DONE = "done"
    FAILED = "failed"  # gave up after max_attempts


class BackgroundJob(Base):
    """One unit of background work and what became of it."""

    __tablename__ = "background_jobs"
    __table_args__ = (Index("ix_background_jobs_state_run_after", "state", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict] = mapped_column(default=dict)
    # Periodic work carries "<task>:<period>": a second scheduler's copy cannot be inserted.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    state: Mapped[JobState] = enum_column(JobState, default=JobState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    run_after: Mapped[datetime | None]
    enqueued_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    progress: Mapped[dict | None]
    result: Mapped[dict | None]
    error: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)
