"""Training the ranker on broker decisions, and choosing which stored version serves."""

from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from marketplace import matching
from marketplace.extensions import db
from marketplace.jobs import enqueue
from marketplace.matching.store import read_metadata
from marketplace.models import (
    FinanceProduct,
    FinancingNeed,
    Match,
    MatchEvent,
    MatchStatus,
    ProductStatus,
    RankerModel,
    User,
    utcnow,
)
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.audit import record
from marketplace.services.matching import ranker
from marketplace.services.reference.fx import usd_rates


def decisions() -> list[dict]:
    """Accepted matches are positives and rejected ones negatives; undecided ones are left out."""
    accepted = set(
        db.session.scalars(
            select(MatchEvent.match_id).where(MatchEvent.to_status == MatchStatus.ACCEPTED)
        )
    )
    rows = db.session.execute(
        select(Match.id, Match.need_id, Match.product_id, Match.status).where(
            (Match.status == MatchStatus.REJECTED) | Match.id.in_(accepted)
        )
    )
    return [
        {
            "type": "decision",
            "need": need_id,
            "product": product_id,
            "accepted": status != MatchStatus.REJECTED,
        }
        for match_id, need_id, product_id, status in rows
    ]


def _listings_for(labelled: list[dict]):
    """The decided listings and every matchable one (by status, not by a list of ids: at
    100,000 needs that list overflows PostgreSQL's 65,535 query parameters)."""
    need_ids = sorted({d["need"] for d in labelled})
    product_ids = sorted({d["product"] for d in labelled})
    needs = db.session.scalars(
        select(FinancingNeed)
        .where(FinancingNeed.status.in_(ranker.MATCHABLE_NEEDS) | FinancingNeed.id.in_(need_ids))
        .order_by(FinancingNeed.id)
    ).all()
    products = db.session.scalars(
        select(FinanceProduct)
        .where((FinanceProduct.status == ProductStatus.ACTIVE) | FinanceProduct.id.in_(product_ids))
        .order_by(FinanceProduct.id)
    ).all()
    return needs, products


def _no_progress(done: int, total: int, label: str = "") -> None:
    return None


def train(actor: User | None = None, seed: int = 0, progress=_no_progress) -> dict:
    """Train on every decision, compare with the active version, save, activate if not worse."""
    progress(0, 3, "decisions")
    labelled = decisions()
    if len({d["accepted"] for d in labelled}) < 2:
        return {
            "saved": False,
            "decisions": len(labelled),
            "reason": "cold start: decisions need both accepted and rejected examples",
        }
    if len({d["need"] for d in labelled}) < 2:
        return {
            "saved": False,
            "decisions": len(labelled),
            "reason": "decisions on at least two needs are needed, so that some can be "
            "held out to evaluate the new model",
        }
    needs, products = _listings_for(labelled)
    progress(1, 3, "training")
    active, rates = ranker.active_model(), usd_rates()
    result = matching.train(
        [ranker.need_record(n, rates) for n in needs],
        ranker.product_records(products, rates),
        labelled,
        active=active,
        usd_rates=rates,
        seed=seed,
    )
    if result.model is None:
        return {
            "saved": False,
            "decisions": result.decisions,
            "reason": "cold start: decisions need both accepted and rejected examples",
        }
    progress(2, 3, "saving")
    version = _save(result, actor)
    return {
        "saved": True,
        "version": version.version,
        "activated": version.is_active,
        "decisions": result.decisions,
        "metrics": result.metrics,
        "active_metrics": result.active_metrics,
    }


@transactional
def _save(result: matching.TrainResult, actor: User | None) -> RankerModel:
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    directory = Path(current_app.config["MODEL_DIR"])
    path = matching.save(
        result.model,
        directory,
        f"ranker-{stamp}",
        data_hash=result.data_hash,
        metrics={"new": result.metrics, "active": result.active_metrics},
    )
    sidecar = read_metadata(path)
    version = RankerModel(
        version=f"ranker-{stamp}",
        training_size=result.decisions,
        data_hash=result.data_hash,
        file_path=str(path),
        sha256=sidecar["sha256"],
        trained_by_id=getattr(actor, "id", None),
        metrics={"new": result.metrics, "active": result.active_metrics},
    )
    db.session.add(version)
    db.session.flush()
    record("ranker.trained", actor=actor, target=version, activated=result.activate)
    if result.activate:
        _make_active(version)
    db.session.commit()
    return version


def _make_active(version: RankerModel) -> None:
    """Serve this version from now on, and re-score every stored suggestion with it (a job)."""
    db.session.execute(
        update(RankerModel).where(RankerModel.id != version.id).values(is_active=False)
    )
    version.is_active, version.activated_at = True, utcnow()
    # Stored chances came from the previous version: one scale at a time on every page.
    enqueue("suggestions.refresh_all")


@transactional
def activate(version_id: int, actor: User) -> RankerModel:
    """Serve a stored version (activate or roll back), after checking its file is intact."""
    version = db.session.get(RankerModel, version_id)
    if version is None:
        raise ServiceError(_l("This model version does not exist."), 404)
    try:
        ranker.load_version(version, verify=True)
    except (matching.ModelIntegrityError, FileNotFoundError):
        raise ServiceError(
            _l(
                "The model file of this version is missing or has been altered; "
                "it cannot be activated."
            ),
            409,
        ) from None
    except matching.IncompatibleModelError:
        raise ServiceError(
            _l(
                "This version was trained on other features than the ranker computes now; "
                "train a new version instead."
            ),
            409,
        ) from None
    _make_active(version)
    record("ranker.activated", actor=actor, target=version)
    db.session.commit()
    return version


def versions() -> list[RankerModel]:
    return list(db.session.scalars(select(RankerModel).order_by(RankerModel.trained_at.desc())))
