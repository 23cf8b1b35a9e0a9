"""Brokers' decisions on suggested matches: accept (and introduce) or reject with a reason.

Decisions are the ranker's training labels. Two brokers acting on one match at once: the row is
locked (SELECT … FOR UPDATE on PostgreSQL) and versioned, so exactly one decision wins.
"""

from flask_babel import lazy_gettext as _l

from marketplace.i18n import label
from marketplace.models import Match, MatchStatus, RejectReason, User, utcnow
from marketplace.services import ServiceError, transactional
from marketplace.services.deals import deals
from marketplace.services.matching.events import commit_or_conflict, lock_match, log_event


@transactional
def reject(
    match_id: int,
    broker: User,
    reason: RejectReason,
    note: str = "",
    expected_version: int | None = None,
) -> Match:
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
def accept(
    match_id: int, broker: User, note: str = "", expected_version: int | None = None
) -> Match:
    """Accept a suggested match (a positive label) and introduce the parties."""

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
        raise ServiceError(
            _l(
                "This match was already decided: it is %(status)s.",
                status=label(match.status, "match_status"),
            ),
            409,
        )
