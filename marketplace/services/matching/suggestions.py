"""Stored suggestions: recompute them for a need, a product, or everything, and keep them."""

from flask import current_app
from sqlalchemy import delete, select

from marketplace import matching
from marketplace.extensions import db
from marketplace.models import (
    FinanceProduct,
    FinancingNeed,
    Match,
    MatchSource,
    MatchStatus,
    utcnow,
)
from marketplace.services.matching import ranker

SHOWN = 10


def _replace_undecided(column, owner_id: int) -> None:
    """Drop the ranker's earlier undecided suggestions for one listing (decisions are kept)."""
    db.session.execute(
        delete(Match)
        .where(
            column == owner_id,
            Match.status == MatchStatus.SUGGESTED,
            Match.source == MatchSource.RANKER,
        )
        .execution_options(synchronize_session=False)
    )


def _store(
    need_id: int, product_id: int, item: matching.Suggestion, version: str | None, rank_field: str
) -> None:
    match = db.session.scalar(
        select(Match).where(Match.need_id == need_id, Match.product_id == product_id)
    )
    if match is None:
        match = Match(
            need_id=need_id,
            product_id=product_id,
            source=MatchSource.RANKER,
            status=MatchStatus.SUGGESTED,
        )
        db.session.add(match)
    elif match.status != MatchStatus.SUGGESTED:
        return  # a decided pair keeps its history
    match.score, match.ranker_version = float(item.score), version
    setattr(match, rank_field, item.rank)
    match.features, match.explanation = item.features, item.explanation
    match.is_exploration, match.propensity = item.is_exploration, float(item.propensity)
    match.shown_at = utcnow()


def refresh_need(need: FinancingNeed, index=None, model=None) -> int:
    """Recompute and store the products suggested for one need; returns how many."""
    index = index or ranker.build_index()
    model = model if model is not None else ranker.active_model()
    if not index.products.records:
        return 0
    items = matching.suggest_for_need(index, ranker.need_record(need), model, k=SHOWN, seed=need.id)
    _replace_undecided(Match.need_id, need.id)
    for item in items:
        _store(need.id, int(item.id), item, getattr(model, "version", None), "rank_for_need")
    db.session.commit()
    return len(items)


def refresh_product(product: FinanceProduct, index=None, model=None) -> int:
    """Recompute and store the needs suggested for one product; returns how many."""
    index = index or ranker.build_index()
    model = model if model is not None else ranker.active_model()
    if not index.needs.records:
        return 0
    items = matching.suggest_for_product(
        index, ranker.product_record(product), model, k=SHOWN, seed=product.id
    )
    _replace_undecided(Match.product_id, product.id)
    for item in items:
        _store(int(item.id), product.id, item, getattr(model, "version", None), "rank_for_product")
    db.session.commit()
    return len(items)


def refresh_all(progress=lambda items, total, label: items) -> dict:
    """Recompute suggestions in both directions for every published need and active product."""
    needs, products = ranker.matchable_needs(), ranker.active_products()
    index = ranker.build_index(needs, products)
    model = ranker.active_model()
    stored = sum(refresh_need(n, index, model) for n in progress(needs, len(needs), "needs"))
    stored += sum(
        refresh_product(p, index, model) for p in progress(products, len(products), "products")
    )
    return {"needs": len(needs), "products": len(products), "suggestions": stored}


def refresh_quietly(listing) -> None:
    """Refresh after a publish or edit; a ranker failure must not undo the listing change."""
    try:
        if isinstance(listing, FinancingNeed):
            refresh_need(listing)
        else:
            refresh_product(listing)
    except Exception:  # the listing is saved; the nightly `flask ranker refresh` catches up
        db.session.rollback()
        current_app.logger.exception("suggestion refresh failed")


def suggestions_for_need(need_id: int) -> list[Match]:
    return list(
        db.session.scalars(
            select(Match)
            .where(Match.need_id == need_id, Match.source == MatchSource.RANKER)
            .order_by(Match.rank_for_need.asc().nulls_last(), Match.score.desc())
        )
    )


def suggestions_for_product(product_id: int) -> list[Match]:
    return list(
        db.session.scalars(
            select(Match)
            .where(Match.product_id == product_id, Match.source == MatchSource.RANKER)
            .order_by(Match.rank_for_product.asc().nulls_last(), Match.score.desc())
        )
    )
