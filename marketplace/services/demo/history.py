"""Demo broker history: decisions on stored suggestions, so the demo ranker has labels to learn.

A simulated broker accepts well-fitting suggestions near the top and rejects ones that miss a
hard constraint, with the matching reason code. Only used by `flask seed-demo`.

The suggestions are those `suggestions.refresh_product` then `refresh_need` would store, in the
same order (so with the same ids), but scored on the indexed records and written in bulk within
one transaction: one commit per listing expired every loaded row each time, which made the
history of 100,000 needs take hours.
"""

import random
from collections.abc import Callable, Iterable

from sqlalchemy import delete, exists, insert, select, update

from marketplace import matching
from marketplace.extensions import db
from marketplace.models import (
    Match,
    MatchEvent,
    MatchSource,
    MatchStatus,
    RejectReason,
    Role,
    User,
    utcnow,
)
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
BATCH = 2000
Progress = Callable[[Iterable, int, str], Iterable]


def _no_progress(items: Iterable, total: int, label: str) -> Iterable:
    return items


def seed_history(
    broker_email: str, needs_with_history: int = 40, progress: Progress = _no_progress
) -> dict:
    """Refresh suggestions, then decide some of them once; does nothing when decisions exist."""
    decided = db.session.scalar(
        select(
            exists().where(MatchEvent.to_status.in_((MatchStatus.ACCEPTED, MatchStatus.REJECTED)))
        )
    )
    if decided:
        return {"accepted": 0, "rejected": 0, "suggestions": 0}
    index = ranker.build_index(ranker.matchable_needs(), ranker.active_products())
    db.session.expunge_all()  # the index holds plain records; keep the session light
    model = ranker.active_model()
    stored = _store_for_products(index, model, progress)
    history_needs = _by_id(index.needs.records)[:needs_with_history]
    stored += _store_for_needs(index, model, history_needs)
    counts = _decide_all([need.id for need in history_needs], broker_email)
    db.session.commit()
    return {**counts, "suggestions": stored}


def _by_id(records: list) -> list:
    """Records in the order they were published (the index keeps its own order)."""
    return sorted(records, key=lambda record: record.id)


def _store_for_products(index, model, progress: Progress) -> int:
    """What refresh_product stores for every indexed product, in product order."""
    products = _by_id(index.products.records)
    if not index.needs.records:
        return 0
    _drop_undecided(Match.product_id, [int(p.id) for p in products])
    writer = _Writer(_existing_pairs(), model)
    for product in progress(products, len(products), "suggestions"):
        items = matching.suggest_for_product(
            index, product, model, k=suggestions.suggestions_per_listing(), seed=product.id
        )
        writer.add(items, lambda item, p=product: (int(item.id), int(p.id)), "rank_for_product")
    return writer.close()


def _store_for_needs(index, model, needs) -> int:
    """What refresh_need stores for each of these needs (replacing the product side's rows)."""
    if not index.products.records:
        return 0
    stored = 0
    for need in needs:
        _drop_undecided(Match.need_id, [int(need.id)])
        writer = _Writer(_existing_pairs(Match.need_id == need.id), model)
        k = suggestions.suggestions_per_listing()
        items = matching.suggest_for_need(index, need, model, k=k, seed=need.id)
        writer.add(items, lambda item, n=need: (int(n.id), int(item.id)), "rank_for_need")
        stored += writer.close()
    return stored


def _drop_undecided(column, ids: list[int]) -> None:
    """Delete the ranker's undecided suggestions of these listings (decisions are kept)."""
    for start in range(0, len(ids), BATCH):
        db.session.execute(
            delete(Match)
            .where(
                column.in_(ids[start : start + BATCH]),
                Match.status == MatchStatus.SUGGESTED,
                Match.source == MatchSource.RANKER,
            )
            .execution_options(synchronize_session=False)
        )


def _existing_pairs(*where) -> dict[tuple[int, int], tuple[int, MatchStatus]]:
    """(need id, product id) → (match id, status) of the stored matches left."""
    rows = db.session.execute(
        select(Match.need_id, Match.product_id, Match.id, Match.status).where(*where)
    )
    return {(r.need_id, r.product_id): (r.id, r.status) for r in rows}


class _Writer:
    """Stores suggestions as refresh_* does: a new row per unseen pair, in batches; a stored
    undecided pair updated; a decided pair kept as it is."""

    def __init__(self, existing: dict, model):
        self.existing, self.version = existing, getattr(model, "version", None)
        self.batch: list[dict] = []
        self.count = 0

    def add(self, items, pair_of, rank_field: str) -> None:
        for item in items:
            self.count += 1
            need_id, product_id = pair_of(item)
            values = {
                **suggestions.stored_values(item, self.version),
                "rank_for_need": None,
                "rank_for_product": None,
                rank_field: item.rank,
            }
            self._store(need_id, product_id, values, rank_field)
        if len(self.batch) >= BATCH:
            self._flush()

    def _store(self, need_id: int, product_id: int, values: dict, rank_field: str) -> None:
        found = self.existing.get((need_id, product_id))
        if found is None:
            new = {"need_id": need_id, "product_id": product_id, **values}
            self.batch.append(
                {**new, "source": MatchSource.RANKER, "status": MatchStatus.SUGGESTED}
            )
        elif found[1] == MatchStatus.SUGGESTED:
            rank = values.pop(rank_field)
            values.pop("rank_for_need", None), values.pop("rank_for_product", None)
            values[rank_field] = rank  # the other direction's rank stays as it was
            self._flush()  # keep the inserts in order before this update
            db.session.execute(update(Match).where(Match.id == found[0]).values(values))

    def _flush(self) -> None:
        if self.batch:
            db.session.execute(insert(Match), self.batch)
            self.batch = []

    def close(self) -> int:
        """Write what is left; returns how many suggestions were stored."""
        self._flush()
        return self.count


def _decide_all(need_ids: list[int], broker_email: str) -> dict:
    broker = db.session.scalar(
        select(User).where(User.email == broker_email, User.role == Role.BROKER)
    )
    counts = {"accepted": 0, "rejected": 0}
    for need_id in need_ids:
        for match in suggestions.suggestions_for_need(need_id)[:6]:
            outcome = _decide(match, broker, random.Random(f"history-{match.id}"))
            if outcome:
                counts[outcome] += 1
    return counts


def _decide(match: Match, broker: User, rng: random.Random) -> str | None:
    missed = match.explanation.get("constraints_missed", [])
    match.decided_by_id, match.decided_at = broker.id, utcnow()
    hard_miss = [c for c in missed if c in HARD]
    # A near miss is accepted now and then, a good suggestion near the top most of the time.
    chance = 0.25 if match.is_near_miss else 0.75
    if not hard_miss and (match.rank_for_need or 99) <= 4 and rng.random() < chance:
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
