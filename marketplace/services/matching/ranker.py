"""The app side of the ranker: records from rows, stored suggestions, training and versions.

marketplace/matching does the maths on plain records; this module reads and writes the database.
"""

from pathlib import Path

from flask import current_app
from sqlalchemy import select

from marketplace import matching
from marketplace.extensions import db
from marketplace.models import FinanceProduct, FinancingNeed, NeedStatus, ProductStatus, RankerModel
from marketplace.services.reference.fx import usd_rates
from marketplace.services.track_records.queries import ranker_entries

MATCHABLE_NEEDS = (NeedStatus.PUBLISHED, NeedStatus.IN_NEGOTIATION)
_loaded: dict[str, matching.RankerModel] = {}


def need_record(need: FinancingNeed, rates: dict[str, float] | None = None) -> matching.Need:
    """A need as the ranker sees it (the JSONL fields plus what the app knows more).

    Pass `rates` (usd_rates()) when making many records: reading them costs a query."""
    return matching.Need.from_dict(
        {
            "id": need.id,
            "title": " ".join(filter(None, (need.title_en, need.title_zh))),
            "description": " ".join(
                filter(None, (need.summary_en, need.summary_zh, need.description))
            ),
            "country": need.country_iso2,
            "sector": need.sector,
            "technology": need.technology,
            "amount": float(need.amount),
            "currency": need.currency,
            "instrument": need.instruments[0] if need.instruments else None,
            "instruments": list(need.instruments),
            "tenor_years": need.tenor_years,
            "stage": need.stage,
            "capacity_mw": float(need.capacity)
            if need.capacity and (need.capacity_unit or "MW") == "MW"
            else None,
            "year": need.created_at.year if need.created_at else None,
            "expected_tco2e": float(need.estimated_tco2e_per_year)
            if need.estimated_tco2e_per_year is not None
            else None,
            "taxonomy_activity": need.taxonomy_activity_ref,
            "organisation_id": need.organisation_id,
        },
        usd_rates=usd_rates() if rates is None else rates,
    )


def product_record(
    product: FinanceProduct,
    rates: dict[str, float] | None = None,
    track_records: dict[int, list[dict]] | None = None,
) -> matching.Product:
    """A product as the ranker sees it, with its investor's track record; `rates` as for
    need_record, and `track_records` (organisation id → ranker_entries) likewise saves a query;
    product_records does both for many products."""
    if track_records is None or product.organisation_id not in track_records:
        track_records = ranker_entries([product.organisation_id])
    return matching.Product.from_dict(
        {
            "id": product.id,
            "name": " ".join(filter(None, (product.name_en, product.name_zh))),
            "description": product.description,
            "product_type": product.product_type,
            "ticket_min": float(product.ticket_min),
            "ticket_max": float(product.ticket_max),
            "currency": product.currency,
            "countries": list(product.countries),
            "regions": list(product.regions),
            "sectors": list(product.sectors),
            "technologies": list(product.technologies),
            "instruments": list(product.instruments),
            "tenor_min": product.tenor_min_years,
            "tenor_max": product.tenor_max_years,
            "stages": list(product.stages),
            "taxonomy_requirements": list(product.taxonomy_requirements),
            "min_tco2e": float(product.min_tco2e_per_year)
            if product.min_tco2e_per_year is not None
            else None,
            "investor_id": product.organisation_id,
            "track_record": track_records[product.organisation_id],
        },
        usd_rates=usd_rates() if rates is None else rates,
    )


def product_records(products, rates: dict[str, float]) -> list[matching.Product]:
    """Many products as the ranker sees them, their investors' track records read in one query."""
    products = list(products)
    track_records = ranker_entries(product.organisation_id for product in products)
    return [product_record(product, rates, track_records) for product in products]


def matchable_needs() -> list[FinancingNeed]:
    return list(
        db.session.scalars(
            select(FinancingNeed)
            .where(FinancingNeed.status.in_(MATCHABLE_NEEDS))
            .order_by(FinancingNeed.id)
        )
    )


def active_products() -> list[FinanceProduct]:
    return list(
        db.session.scalars(
            select(FinanceProduct)
            .where(FinanceProduct.status == ProductStatus.ACTIVE)
            .order_by(FinanceProduct.id)
        )
    )


def build_index(needs=None, products=None, progress: bool = False) -> matching.MatchingIndex:
    """Index the published needs and active products (or the given rows)."""
    needs = matchable_needs() if needs is None else needs
    products = active_products() if products is None else products
    rates = usd_rates()
    return matching.MatchingIndex.build(
        [need_record(n, rates) for n in needs],
        product_records(products, rates),
        usd_rates=rates,
        progress=progress,
    )


def active_version() -> RankerModel | None:
    return db.session.scalar(select(RankerModel).where(RankerModel.is_active))


def load_version(version: RankerModel, verify: bool = False) -> matching.RankerModel:
    """The model of a stored version, after its file's SHA-256 matches the recorded one.

    Loaded once per process; `verify` reads and checks the file again even so (activation)."""
    if verify or version.version not in _loaded:
        _loaded[version.version] = matching.load(Path(version.file_path), version.sha256)
    return _loaded[version.version]


def active_model() -> matching.RankerModel | None:
    """The active model, or None at cold start (the stage-1 score serves then)."""
    version = active_version()
    if version is None:
        return None
    try:
        return load_version(version)
    except (
        matching.ModelIntegrityError,
        matching.IncompatibleModelError,
        FileNotFoundError,
    ) as error:
        # Stage 1 serves until a version this engine can use is trained or activated.
        current_app.logger.error("ranker model %s refused: %s", version.version, error)
        return None
