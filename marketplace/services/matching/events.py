"""The primitives of a match's life, shared by every service that changes a match's status.

Changing a match means: load it locked (SELECT … FOR UPDATE on PostgreSQL) and check its version,
record the change as a MatchEvent and in the audit log, and commit, turning a concurrent change
into a 409. Reviews, interests and deals all go through these.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from marketplace.extensions import db
from marketplace.models import Match, MatchEvent, MatchStatus, User
from marketplace.services import ServiceError
from marketplace.services.accounts.audit import record

# A deal between introduced parties that has not ended yet.
OPEN_DEAL = (MatchStatus.INTRODUCED, MatchStatus.IN_NEGOTIATION, MatchStatus.TERM_SHEET)


def lock_match(match_id: int, expected_version: int | None = None) -> Match:
    """Load a match for a change, locking its row; 409 when someone changed it meanwhile."""
    match = db.session.scalar(
        select(Match)
        .where(Match.id == match_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if match is None:
        raise ServiceError(_l("This match does not exist."), 404)
    if expected_version is not None and match.version_id != expected_version:
        raise ServiceError(
            _l(
                "Another broker has already acted on this match. Reload the page "
                "to see their decision."
            ),
            409,
        )
    return match


def log_event(
    match: Match,
    actor: User | None,
    to_status: MatchStatus,
    *,
    reason_code=None,
    note: str | None = None,
    **data,
) -> MatchEvent:
    """Record one status change of a match (its history and the audit trail)."""
    event = MatchEvent(
        match_id=match.id,
        actor_id=getattr(actor, "id", None),
        from_status=match.status,
        to_status=to_status,
        reason_code=str(reason_code) if reason_code else None,
        note=note,
        data=data,
    )
    db.session.add(event)
    record(
        f"match.{to_status.value}",
        actor=actor,
        target=match,
        old=str(match.status),
        reason=str(reason_code or ""),
        note=note or "",
    )
    match.status = to_status
    return event


def commit_or_conflict() -> None:
    """Commit a match change; a concurrent change of the same match (version) becomes a 409."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise ServiceError(
            _l(
                "Another broker has already acted on this match. Reload the page "
                "to see their decision."
            ),
            409,
        ) from None
