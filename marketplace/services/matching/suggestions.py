"""Stored suggestions: recompute them for a need, a product, or everything, and keep them."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from marketplace import matching
from marketplace.extensions import db
from marketplace.jobs import enqueue, task
from marketplace.models import (
    FinanceProduct,
    FinancingNeed,
    Match,
    MatchSource,
    MatchStatus,
    ProductStatus,
    utcnow,
)
from marketplace.services.matching import ranker
from marketplace.services.matching.ranker import MATCHABLE_NEEDS

# What a listing's summary says when the other side has nothing to match at all.
EMPTY = {"total": 0, "good": 0, "near_miss": 0, "excluded": 0, "excluded_by": {}, "main": None}


def suggestions_per_listing() -> int:
    """k: the good suggestions kept per listing (MATCH_SUGGESTIONS_K, default 5)."""
    return current_app.config.get("MATCH_SUGGESTIONS_K", matching.DEFAULT_K)


def stored_values(item: matching.Suggestion, version: str | None) -> dict:
    """The columns of a Match that a suggestion sets (its rank field aside)."""
    return {
        "score": item.probability,  # the calibrated chance; None at cold start
        "ranker_version": version,
        "is_near_miss": item.tier == "near_miss",
        "features": item.features,
        "explanation": item.explanation,
        "is_exploration": item.is_exploration,
        "propensity": float(item.propensity),
        "shown_at": utcnow(),
    }


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
    for name, value in stored_values(item, version).items():
        setattr(match, name, value)
    setattr(match, rank_field, item.rank)


def _save_summary(listing, counts: dict, k: int) -> None:
    """Keep what this refresh found on the listing: matching.diagnose_* counts, and k.

    A plain UPDATE: the summary is bookkeeping, not an edit, so the listing's version (which
    guards the owner's edit form), its revision and its updated_at stay as they are."""
    table = type(listing).__table__
    values = {**counts, "k": k, "refreshed_at": utcnow().isoformat()}
    db.session.execute(
        update(table)
        .where(table.c.id == listing.id)
        .values(match_summary=values, updated_at=table.c.updated_at)
    )


def refresh_need(need: FinancingNeed, index=None, model=None) -> int:
    """Recompute and store the products suggested for one need; returns how many."""
    index = index or ranker.build_index()
    model = model if model is not None else ranker.active_model()
    record, k = ranker.need_record(need), suggestions_per_listing()
    if not index.products.records:
        _save_summary(need, EMPTY, k)
        return 0
    items = matching.suggest_for_need(index, record, model, k=k, seed=need.id)
    _replace_undecided(Match.need_id, need.id)
    for item in items:
        _store(need.id, int(item.id), item, getattr(model, "version", None), "rank_for_need")
    _save_summary(need, matching.diagnose_need(index, record), k)
    db.session.commit()
    return len(items)


def refresh_product(product: FinanceProduct, index=None, model=None) -> int:
    """Recompute and store the needs suggested for one product; returns how many."""
    index = index or ranker.build_index()
    model = model if model is not None else ranker.active_model()
    record, k = ranker.product_record(product), suggestions_per_listing()
    if not index.needs.records:
        _save_summary(product, EMPTY, k)
        return 0
    items = matching.suggest_for_product(index, record, model, k=k, seed=product.id)
    _replace_undecided(Match.product_id, product.id)
    for item in items:
        _store(int(item.id), product.id, item, getattr(model, "version", None), "rank_for_product")
    _save_summary(product, matching.diagnose_product(index, record), k)
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


def request_refresh(listing) -> None:
    """Ask, in the current transaction, for the listing's suggestions once it commits."""
    if isinstance(listing, FinancingNeed):
        enqueue("suggestions.refresh_need", {"need_id": listing.id})
    else:
        enqueue("suggestions.refresh_product", {"product_id": listing.id})


@task("suggestions.refresh_need", max_attempts=3)
def refresh_need_job(need_id: int) -> dict:
    """Recompute one need's suggestions, if it is still open to matching when the job runs."""
    need = db.session.get(FinancingNeed, need_id)
    if need is None or need.status not in MATCHABLE_NEEDS:
        return {"suggestions": 0, "skipped": "not matchable"}
    return {"suggestions": refresh_need(need)}


@task("suggestions.refresh_product", max_attempts=3)
def refresh_product_job(product_id: int) -> dict:
    """Recompute one product's suggestions, if it is still active when the job runs."""
    product = db.session.get(FinanceProduct, product_id)
    if product is None or product.status != ProductStatus.ACTIVE:
        return {"suggestions": 0, "skipped": "not active"}
    return {"suggestions": refresh_product(product)}


@task("suggestions.refresh_all", max_attempts=3, lease=timedelta(hours=2))
def refresh_all_job() -> dict:
    """The nightly refresh: every listing's suggestions against the day's market."""
    return refresh_all()


def suggestions_for_need(need_id: int) -> list[Match]:
    return list(
        db.session.scalars(
            select(Match)
            .where(Match.need_id == need_id, Match.source == MatchSource.RANKER)
            .order_by(
                Match.is_near_miss, Match.rank_for_need.asc().nulls_last(), Match.score.desc()
            )
        )
    )


def suggestions_for_product(product_id: int) -> list[Match]:
    return list(
        db.session.scalars(
            select(Match)
            .where(Match.product_id == product_id, Match.source == MatchSource.RANKER)
            .order_by(
                Match.is_near_miss, Match.rank_for_product.asc().nulls_last(), Match.score.desc()
            )
        )
    )
