"""Brokers' decisions on suggested matches: accept (and introduce) or reject with a reason.

Decisions are the ranker's training labels. Two brokers acting on one match at once: the row is
locked (SELECT … FOR UPDATE on PostgreSQL) and versioned, so exactly one decision wins.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from marketplace.extensions import db
from marketplace.models import Match, MatchEvent, MatchStatus, RejectReason, User, utcnow
from marketplace.services import ServiceError, transactional
from marketplace.services.audit import record


def lock_match(match_id: int, expected_version: int | None = None) -> Match:
    """Load a match for a change, locking its row; 409 when someone changed it meanwhile."""
    match = db.session.scalar(select(Match).where(Match.id == match_id).with_for_update()
                              .execution_options(populate_existing=True))
    if match is None:
        raise ServiceError(_l("This match does not exist."), 404)
    if expected_version is not None and match.version_id != expected_version:
        raise ServiceError(_l("Another broker has already acted on this match. Reload the page "
                              "to see their decision."), 409)
    return match


def log_event(match: Match, actor: User | None, to_status: MatchStatus, *, reason_code=None,
              note: str | None = None, **data) -> MatchEvent:
    """Record one status change of a match (its history and the audit trail)."""
    event = MatchEvent(match_id=match.id, actor_id=getattr(actor, "id", None),
                       from_status=match.status, to_status=to_status,
                       reason_code=str(reason_code) if reason_code else None, note=note,
                       data=data)
    db.session.add(event)
    record(f"match.{to_status.value}", actor=actor, target=match,
           old=str(match.status), reason=str(reason_code or ""), note=note or "")
    match.status = to_status
    return event


def commit_or_conflict() -> None:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise ServiceError(_l("Another broker has already acted on this match. Reload the page "
                              "to see their decision."), 409) from None


@transactional
def reject(match_id: int, broker: User, reason: RejectReason, note: str = "",
           expected_version: int | None = None) -> Match:
    """Reject a suggested match with a reason code (a negative training label)."""
    match = lock_match(match_id, expected_version)
    _require_undecided(match)
    if reason == RejectReason.OTHER and not note.strip():
        raise ServiceError(_l("Say why in the note when the reason is “other”."))
    match.decided_by_id, match.decided_at = broker.id, utcnow()
    match.reason_code, match.reason_note = reason, note.strip() or None
    log_event(match, broker, MatchStatus.REJECTED, reason_code=reason, note=note.strip() or None)
    commit_or_conflict()
    return match


@transactional
def accept(match_id: int, broker: User, note: str = "",
           expected_version: int | None = None) -> Match:
    """Accept a suggested match (a positive label) and introduce the parties."""
    from marketplace.services import deals

    match = lock_match(match_id, expected_version)
    _require_undecided(match)
    match.decided_by_id, match.decided_at = broker.id, utcnow()
    match.reason_note = note.strip() or None
    log_event(match, broker, MatchStatus.ACCEPTED, note=note.strip() or None)
    deals.introduce(match, broker)
    commit_or_conflict()
    deals.notify_introduction(match)
    return match


def _require_undecided(match: Match) -> None:
    if match.status != MatchStatus.SUGGESTED:
        from marketplace.i18n import label

        raise ServiceError(_l("This match was already decided: it is %(status)s.",
                              status=label(match.status, "match_status")), 409)
