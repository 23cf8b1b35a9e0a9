"""Deals closed on the platform join the investor's track record, in the closing transaction."""

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    FinanceProduct,
    Match,
    MatchStatus,
    Organisation,
    TrackRecordDeal,
    TrackSource,
    User,
)
from marketplace.services.track_records.rules import platform_key


def record_closed_deal(match: Match, actor: User | None = None) -> TrackRecordDeal:
    """Add the won match to its investor's track record (once), naming the other investors that
    closed on the same need as co-financiers, and this investor on their deals. No commit."""
    # No autoflush: the locked match's own change is flushed by the caller's commit, which turns
    # a concurrent change into a 409 (services.matching.events.commit_or_conflict).
    with db.session.no_autoflush:
        existing = db.session.scalar(
            select(TrackRecordDeal).where(TrackRecordDeal.match_id == match.id)
        )
        if existing is not None:
            return existing
        return _add(match, actor)


def _add(match: Match, actor: User | None) -> TrackRecordDeal:
    need, investor_id = match.need, match.product.organisation_id
    others = _other_closed_deals(match)
    amount = match.amount_financed_usd
    row = TrackRecordDeal(
        organisation_id=investor_id,
        country_iso2=need.country_iso2,
        sector=need.sector,
        technology=need.technology,
        year=(match.closed_on or match.updated_at).year,
        amount_usd=amount if amount and amount > 0 else None,
        co_financiers=_names({org_id for org_id, _row in others} - {investor_id}),
        source=TrackSource.PLATFORM,
        match_id=match.id,
        dedupe_key=platform_key(match.id),
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(row)
    own_name = db.session.get(Organisation, investor_id).name
    for org_id, other in others:
        if other is not None and org_id != investor_id and own_name not in other.co_financiers:
            other.co_financiers = [*other.co_financiers, own_name]
    return row


def _other_closed_deals(match: Match) -> list[tuple[int, TrackRecordDeal | None]]:
    """(investor organisation, its platform deal if recorded) of the need's other won matches."""
    rows = db.session.execute(
        select(FinanceProduct.organisation_id, TrackRecordDeal)
        .select_from(Match)
        .join(FinanceProduct, FinanceProduct.id == Match.product_id)
        .outerjoin(TrackRecordDeal, TrackRecordDeal.match_id == Match.id)
        .where(
            Match.need_id == match.need_id,
            Match.id != match.id,
            Match.status == MatchStatus.CLOSED_WON,
        )
        .order_by(Match.id)
    )
    return [(org_id, deal) for org_id, deal in rows]


def _names(organisation_ids: set[int]) -> list[str]:
    if not organisation_ids:
        return []
    return list(
        db.session.scalars(
            select(Organisation.name)
            .where(Organisation.id.in_(organisation_ids))
            .order_by(Organisation.name)
        )
    )
