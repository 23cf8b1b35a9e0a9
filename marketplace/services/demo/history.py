"""Demo broker history: decisions on stored suggestions, so the demo ranker has labels to learn.

A simulated broker accepts well-fitting suggestions near the top and rejects ones that miss a
hard constraint, with the matching reason code. Only used by `flask seed-demo`.
"""

import random

from sqlalchemy import exists, select

from marketplace.extensions import db
from marketplace.models import Match, MatchEvent, MatchStatus, RejectReason, Role, User, utcnow
from marketplace.services.deals import deals
from marketplace.services.matching import ranker, suggestions
from marketplace.services.matching.events import log_event

REASON_FOR_MISS = {
    "country": RejectReason.COUNTRY_RISK,
    "ticket": RejectReason.TICKET_SIZE,
    "tenor": RejectReason.TENOR,
    "currency": RejectReason.CURRENCY,
    "sector": RejectReason.SECTOR_MISMATCH,
    "stage": RejectReason.STAGE,
    "taxonomy": RejectReason.TAXONOMY_NOT_ALIGNED,
}


# Brokers here treat these as deal-breakers; the others (stage, taxonomy…) as negotiable.
HARD = ("country", "ticket", "currency", "sector", "tenor")


def seed_history(broker_email: str, needs_with_history: int = 40) -> dict:
    """Refresh suggestions, then decide some of them once; does nothing when decisions exist."""
    decided = db.session.scalar(
        select(
            exists().where(MatchEvent.to_status.in_((MatchStatus.ACCEPTED, MatchStatus.REJECTED)))
        )
    )
    if decided:
        return {"accepted": 0, "rejected": 0, "suggestions": 0}
    needs, products = ranker.matchable_needs(), ranker.active_products()
    index = ranker.build_index(needs, products)
    stored = sum(suggestions.refresh_product(p, index, None) for p in products)
    stored += sum(suggestions.refresh_need(n, index, None) for n in needs[:needs_with_history])
    broker = db.session.scalar(
        select(User).where(User.email == broker_email, User.role == Role.BROKER)
    )
    counts = {"accepted": 0, "rejected": 0, "suggestions": stored}
    for need_id in [n.id for n in needs[:needs_with_history]]:
        for match in suggestions.suggestions_for_need(need_id)[:6]:
            outcome = _decide(match, broker, random.Random(f"history-{match.id}"))
            if outcome:
                counts[outcome] += 1
    db.session.commit()
    return counts


def _decide(match: Match, broker: User, rng: random.Random) -> str | None:
    missed = match.explanation.get("constraints_missed", [])
    match.decided_by_id, match.decided_at = broker.id, utcnow()
    hard_miss = [c for c in missed if c in HARD]
    if not hard_miss and (match.rank_for_need or 99) <= 4 and rng.random() < 0.75:
        log_event(match, broker, MatchStatus.ACCEPTED, note="Demo history")
        deals.introduce(match, broker)
        return "accepted"
    reason = next((REASON_FOR_MISS[c] for c in hard_miss + missed if c in REASON_FOR_MISS), None)
    if reason is None and rng.random() < 0.5:
        match.decided_by_id = match.decided_at = None
        return None
    match.reason_code = reason or RejectReason.OTHER
    match.reason_note = None if reason else "Demo history: weaker fit than the alternatives"
    log_event(
        match, broker, MatchStatus.REJECTED, reason_code=match.reason_code, note=match.reason_note
    )
    return "rejected"
