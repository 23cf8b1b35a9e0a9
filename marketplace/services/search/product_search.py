"""Faceted search of active finance products, with the same filters and pages as needs.

Products are few (a handful per investor desk), so one query fetches the active ones matching the
words and the facets are counted in Python; that keeps list-valued mandates (sectors, regions,
countries) and ranges (ticket, tenor) simple and identical on SQLite and PostgreSQL.
"""

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from marketplace.extensions import db
from marketplace.models import FinanceProduct, ProductStatus
from marketplace.reference import sectors
from marketplace.services.search.search import (
    AMOUNT_BANDS,
    PER_PAGE,
    PRODUCT_FACETS,
    TENOR_BANDS,
    Filters,
    Geography,
    SearchPage,
    concat_text,
    facet_values,
    geography,
    text_condition,
)
from marketplace.services.track_records.queries import financed_places_and_technologies

PRODUCT_TEXT = concat_text(
    FinanceProduct.name_en, FinanceProduct.name_zh, FinanceProduct.description
)

_PRODUCT_COLUMNS = (
    FinanceProduct.id,
    FinanceProduct.organisation_id,
    FinanceProduct.product_type,
    FinanceProduct.sectors,
    FinanceProduct.regions,
    FinanceProduct.countries,
    FinanceProduct.currency,
    FinanceProduct.ticket_min_usd,
    FinanceProduct.ticket_max_usd,
    FinanceProduct.tenor_min_years,
    FinanceProduct.tenor_max_years,
    FinanceProduct.activated_at,
    FinanceProduct.created_at,
)


_NOTHING_FINANCED = {"financed_country": set(), "financed_technology": set()}


def _product_keys(row, geo: Geography, financed: dict) -> dict[str, set[str]]:
    """The facet keys a product belongs to; an empty list of sectors or places means any, an
    investor without a track record has financed nowhere."""
    regions = set(row.regions or ()) | {
        geo.region_of[c] for c in row.countries or () if c in geo.region_of
    }
    return {
        **financed.get(row.organisation_id, _NOTHING_FINANCED),
        "type": {row.product_type},
        "currency": {row.currency},
        "sector": set(row.sectors or ()) or set(sectors.SECTORS),
        "region": regions or set(geo.region_of.values()),
        "ticket": _bands_met(AMOUNT_BANDS, row.ticket_min_usd, row.ticket_max_usd),
        "tenor": _bands_met(TENOR_BANDS, row.tenor_min_years, row.tenor_max_years),
    }


def _bands_met(bands, low, high) -> set[str]:
    """The bands that the range [low, high] reaches into."""
    return {
        band.key
        for band in bands
        if (band.high is None or low < band.high) and (band.low is None or high >= band.low)
    }


def _passes(keys: dict[str, set[str]], filters: Filters, without: str | None = None) -> bool:
    return all(
        facet == without or not chosen or keys[facet] & set(chosen)
        for facet, chosen in filters.chosen.items()
    )


_PRODUCT_SORT = {
    "newest": lambda row: (-(row.activated_at or row.created_at).timestamp(), -row.id),
    "ticket": lambda row: (-row.ticket_max_usd, -row.id),
    "ticket_asc": lambda row: (row.ticket_min_usd, -row.id),
}


def search_products(filters: Filters, page: int = 1, geo: Geography | None = None) -> SearchPage:
    """One page of active products matching the filters, with drill-down facet counts."""
    geo = geo or geography()
    where = [FinanceProduct.status == ProductStatus.ACTIVE]
    if (text := text_condition(PRODUCT_TEXT, filters.q)) is not None:
        where.append(text)
    financed = financed_places_and_technologies()
    rows = [
        (row, _product_keys(row, geo, financed))
        for row in db.session.execute(select(*_PRODUCT_COLUMNS).where(*where))
    ]
    counts = {
        facet: Counter(
            key for row, keys in rows if _passes(keys, filters, facet) for key in keys[facet]
        )
        for facet in PRODUCT_FACETS
    }
    matching = sorted(
        (row for row, keys in rows if _passes(keys, filters)), key=_PRODUCT_SORT[filters.sort]
    )
    page = min(page, max(1, -(-len(matching) // PER_PAGE)))
    ids = [row.id for row in matching[(page - 1) * PER_PAGE : page * PER_PAGE]]
    loaded = {
        p.id: p
        for p in db.session.scalars(
            select(FinanceProduct)
            .where(FinanceProduct.id.in_(ids))
            .options(joinedload(FinanceProduct.organisation))
        )
    }
    return SearchPage(
        filters,
        [loaded[i] for i in ids],
        len(matching),
        page,
        facet_values(PRODUCT_FACETS, counts, filters),
    )
