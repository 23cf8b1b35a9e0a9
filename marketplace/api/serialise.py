"""Rows to the API's models: what a page shows its reader, as data."""

from __future__ import annotations

from marketplace.api import schemas
from marketplace.links import external_url
from marketplace.phrasing import reason_text
from marketplace.services.listings import visibility
from marketplace.services.matching import interests


def _digits(value) -> str | None:
    return None if value is None else format(value, "f")


def need(row, viewer, locale: str) -> schemas.Need:
    """A need as its page shows it to this viewer (the organisation only when shown there)."""
    insider = visibility.owns(viewer, row) or visibility.is_staff(viewer)
    return schemas.Need(
        id=row.id,
        title=row.title_for(locale),
        summary=row.summary_for(locale),
        description=row.description or None,
        status=row.status.value,
        country=row.country_iso2,
        sector=row.sector,
        technology=row.technology,
        taxonomy_activity=row.taxonomy_activity_ref,
        amount=schemas.Money.of(row.amount, row.currency),
        amount_usd=schemas.Money.of(row.amount_usd, "USD"),
        instruments=list(row.instruments or ()),
        tenor_years=row.tenor_years,
        stage=row.stage,
        capacity=_digits(row.capacity),
        capacity_unit=row.capacity_unit,
        estimated_tco2e_per_year=_digits(row.estimated_tco2e_per_year),
        organisation=row.organisation.name if row.show_organisation or insider else None,
        published_at=row.published_at,
        url=external_url("public.need_detail", need_id=row.id),
    )


def product(row, locale: str) -> schemas.Product:
    """A product and its mandate."""
    return schemas.Product(
        id=row.id,
        name=row.name_for(locale),
        description=row.description,
        status=row.status.value,
        type=row.product_type,
        ticket_min=schemas.Money.of(row.ticket_min, row.currency),
        ticket_max=schemas.Money.of(row.ticket_max, row.currency),
        ticket_min_usd=schemas.Money.of(row.ticket_min_usd, "USD"),
        ticket_max_usd=schemas.Money.of(row.ticket_max_usd, "USD"),
        tenor_min_years=row.tenor_min_years,
        tenor_max_years=row.tenor_max_years,
        countries=list(row.countries or ()),
        regions=list(row.regions or ()),
        sectors=list(row.sectors or ()),
        technologies=list(row.technologies or ()),
        instruments=list(row.instruments or ()),
        stages=list(row.stages or ()),
        taxonomy_requirements=list(row.taxonomy_requirements or ()),
        min_tco2e_per_year=_digits(row.min_tco2e_per_year),
        organisation=row.organisation.name,
        activated_at=row.activated_at,
        url=external_url("public.product_detail", product_id=row.id),
    )


def facets(found: dict) -> dict[str, list[schemas.FacetCount]]:
    return {
        facet: [schemas.FacetCount(key=v.key, count=v.count, selected=v.selected) for v in values]
        for facet, values in found.items()
    }


def suggestion(match, rank: int | None) -> schemas.Suggestion:
    """A stored suggestion with its reasons phrased in the reader's language."""
    reasons = [reason_text(r) for r in (match.explanation or {}).get("reasons", ())]
    return schemas.Suggestion(
        match_id=match.id,
        need_id=match.need_id,
        product_id=match.product_id,
        rank=rank,
        tier="near_miss" if match.is_near_miss else "good",
        chance=None if match.score is None else min(1.0, max(0.0, float(match.score))),
        status=match.status.value,
        reasons=[text for text in reasons if text],
        created_at=match.created_at,
    )


def me(user, key, locale: str) -> schemas.Me:
    return schemas.Me(
        id=user.id,
        display_name=user.display_name,
        role=user.role.value,
        locale=user.locale,
        organisation=schemas.Organisation(id=user.organisation.id, name=user.organisation.name),
        key=schemas.Key(
            name=key.name,
            prefix=key.prefix,
            scopes=key.scopes.split(),
            last_used_at=key.last_used_at,
        ),
        listings=[
            schemas.Listing(id=ident, name=name)
            for ident, name in interests.own_open_listings(user, locale)
        ],
    )


def interest(row) -> schemas.Interest:
    return schemas.Interest(
        id=row.id,
        need_id=row.need_id,
        product_id=row.product_id,
        status=row.status.value,
        message=row.message,
        match_status=row.match.status.value if row.match else None,
        created_at=row.created_at,
    )
