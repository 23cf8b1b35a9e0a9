"""Which job rows each transaction created, and which of them have committed."""

from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace.extensions import db
from marketplace.models import BackgroundJob

_NEW, _COMMITTED = "jobs.new", "jobs.committed"


def committed_job_ids() -> list[int]:
    """Take the ids of the jobs committed by this session since the last call."""
    return db.session().info.pop(_COMMITTED, [])


def register_session_hooks() -> None:
    """Listen on every session (once per process): new job rows, commits and rollbacks."""
    if event.contains(Session, "after_commit", _promote_committed):
        return
    event.listen(Session, "after_flush", _remember_new_jobs)
    event.listen(Session, "after_commit", _promote_committed)
    event.listen(Session, "after_rollback", _forget_rolled_back)


def _remember_new_jobs(session, flush_context) -> None:
    new = [obj.id for obj in session.new if isinstance(obj, BackgroundJob)]
    if new:
        session.info.setdefault(_NEW, []).extend(new)


def _promote_committed(session) -> None:
    new = session.info.pop(_NEW, [])
    if new:
        session.info.setdefault(_COMMITTED, []).extend(new)


def _forget_rolled_back(session) -> None:
    session.info.pop(_NEW, None)
