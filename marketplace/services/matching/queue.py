"""The brokers' review queue of suggested matches and expressions of interest (read-only)."""

from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, joinedload

from marketplace.extensions import db
from marketplace.models import (
    FinanceProduct,
    FinancingNeed,
    Match,
    MatchSource,
    MatchStatus,
    Organisation,
    utcnow,
)

PAGE_SIZE = 25
ORDERS = ("score", "waiting")


@dataclass(frozen=True)
class QueueFilters:
    sector: str | None = None
    country: str | None = None
    hub: str | None = None
    source: str | None = None
    min_chance: float | None = None  # percent, 0–100
    near_misses: bool = False  # show the near misses instead of the good suggestions
    older_than_days: int | None = None
    order: str = "score"
    page: int = 1


def _filtered(filters: QueueFilters):
    """Suggested matches matching the filters (joined to what they filter on)."""
    investor_org = aliased(Organisation)
    query = (
        select(Match)
        .join(Match.need)
        .join(Match.product)
        .join(investor_org, investor_org.id == FinanceProduct.organisation_id)
        .where(Match.status == MatchStatus.SUGGESTED, Match.is_near_miss.is_(filters.near_misses))
    )
    if filters.sector:
        query = query.where(FinancingNeed.sector == filters.sector)
    if filters.country:
        query = query.where(FinancingNeed.country_iso2 == filters.country)
    if filters.hub:
        query = query.where(investor_org.hub == filters.hub)
    if filters.source in {s.value for s in MatchSource}:
        query = query.where(Match.source == filters.source)
    if filters.min_chance is not None:
        query = query.where(Match.score >= filters.min_chance / 100)
    if filters.older_than_days:
        query = query.where(Match.created_at <= utcnow() - timedelta(days=filters.older_than_days))
    return query


def queue_total(filters: QueueFilters) -> int:
    """How many suggested matches the filters leave (counting them all: cache it)."""
    return db.session.scalar(select(func.count()).select_from(_filtered(filters).subquery()))


def hidden_total(filters: QueueFilters) -> int:
    """How many the other section holds under the same filters (near misses, or good ones)."""
    return queue_total(replace(filters, near_misses=not filters.near_misses, page=1))


def queue_page(filters: QueueFilters) -> list[Match]:
    """One page of the queue, best first or longest-waiting first (ix_matches_review_queue)."""
    order = (
        (Match.created_at.asc(), Match.id)
        if filters.order == "waiting"
        else (Match.score.desc().nulls_last(), Match.created_at.asc(), Match.id)
    )
    rows = db.session.scalars(
        _filtered(filters)
        .options(
            joinedload(Match.need),
            joinedload(Match.product).joinedload(FinanceProduct.organisation),
        )
        .order_by(*order)
        .offset((filters.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    return list(rows.unique().all())


def review_queue(filters: QueueFilters) -> tuple[list[Match], int]:
    """Suggested matches matching the filters, best first or longest-waiting first."""
    return queue_page(filters), queue_total(filters)
