"""Request and response models of the API; their JSON Schema is the OpenAPI document's.

Amounts are strings of decimal digits beside an ISO 4217 code (never a float); times are RFC 3339
in UTC; country codes ISO 3166-1 alpha-2; sectors, technologies, instruments and stages are the
keys the site's forms use (their labels in three languages are on the pages)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from marketplace.services.search.search import (
    NEED_FACETS,
    NEED_SORTS,
    PRODUCT_FACETS,
    PRODUCT_SORTS,
)

DIGITS = r"^-?[0-9]+(\.[0-9]+)?$"
# Text in a query: anything but NUL, which no database stores (the site refuses it with a 400).
TEXT = r"^[^\x00]*$"
# A page's cursor: take `next_cursor` as it is (past the last page, the last page again).
CURSOR = r"^p[1-9][0-9]{0,3}$"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Money(Model):
    """An amount in one currency."""

    amount: str = Field(pattern=DIGITS, examples=["25000000.00"])
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["USD"])

    @classmethod
    def of(cls, amount: Decimal | None, currency: str) -> Money | None:
        return None if amount is None else cls(amount=format(amount, "f"), currency=currency)


class ParameterError(BaseModel):
    """One parameter or field of an invalid request, and what is wrong with it."""

    parameter: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document: `type` is stable, `title` and `detail` are in the key
    owner's language."""

    type: str = Field(examples=["/api/v1/problems/not-found"])
    title: str
    status: int
    detail: str | None = None
    errors: list[ParameterError] | None = Field(None, description="invalid-request only")


class Need(Model):
    """A financing need, as much of it as the key's user may see on its page."""

    id: int
    title: str
    summary: str
    description: str | None = Field(description="Owner's text; for signed-in readers")
    status: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    sector: str
    technology: str
    taxonomy_activity: str | None
    amount: Money
    amount_usd: Money
    instruments: list[str]
    tenor_years: int
    stage: str
    capacity: str | None = Field(pattern=DIGITS)
    capacity_unit: str | None
    estimated_tco2e_per_year: str | None = Field(pattern=DIGITS)
    organisation: str | None = Field(description="Shown when the owner chose to show it")
    published_at: datetime | None
    url: str


class Product(Model):
    """A green-finance product and its mandate."""

    id: int
    name: str
    description: str
    status: str
    type: str
    ticket_min: Money
    ticket_max: Money
    ticket_min_usd: Money
    ticket_max_usd: Money
    tenor_min_years: int
    tenor_max_years: int
    countries: list[str]
    regions: list[str]
    sectors: list[str]
    technologies: list[str]
    instruments: list[str]
    stages: list[str]
    taxonomy_requirements: list[str]
    min_tco2e_per_year: str | None = Field(pattern=DIGITS)
    organisation: str
    activated_at: datetime | None
    url: str


class FacetCount(Model):
    key: str
    count: int
    selected: bool


class NeedPage(Model):
    """One page of a need search; `next_cursor` fetches the next (null on the last page)."""

    items: list[Need]
    total: int
    next_cursor: str | None
    facets: dict[str, list[FacetCount]]


class ProductPage(Model):
    """One page of a product search; `next_cursor` fetches the next (null on the last page)."""

    items: list[Product]
    total: int
    next_cursor: str | None
    facets: dict[str, list[FacetCount]]


class Suggestion(Model):
    """A match the ranker suggests for one of my listings, with its reasons."""

    match_id: int
    need_id: int
    product_id: int
    rank: int | None
    tier: Literal["good", "near_miss"]
    chance: float | None = Field(ge=0, le=1, description="Estimated chance a broker accepts")
    status: str
    reasons: list[str]
    created_at: datetime


class SuggestionList(Model):
    items: list[Suggestion]


class Interest(Model):
    """An expression of interest my organisation sent, and where its match stands."""

    id: int
    need_id: int
    product_id: int
    status: str
    message: str
    match_status: str | None
    created_at: datetime


class InterestList(Model):
    items: list[Interest]


class Organisation(Model):
    id: int
    name: str


class Key(Model):
    name: str
    prefix: str
    scopes: list[str]
    last_used_at: datetime | None


class Listing(Model):
    id: int
    name: str


class Me(Model):
    """The key's user, the key, and its organisation's open listings (an investor's active
    products, an owner's open needs: what its suggestions are for)."""

    id: int
    display_name: str
    role: str
    locale: str
    organisation: Organisation
    key: Key
    listings: list[Listing]


def _search_query(name: str, facets: tuple[str, ...], sorts: tuple[str, ...]):
    """Query parameters of a search: the search page's facets (repeat a parameter for several
    values; unknown values are ignored, as on the page), words, sort and the cursor."""
    value = Annotated[str, Field(pattern=TEXT, max_length=100)]
    fields = {facet: (list[value], Field(default_factory=list)) for facet in facets}
    return create_model(
        name,
        __config__=ConfigDict(extra="forbid"),
        q=(str, Field("", max_length=200, pattern=TEXT, description="Words to look for")),
        sort=(Literal[sorts], "newest"),  # type: ignore[valid-type]
        cursor=(str | None, Field(None, pattern=CURSOR, description="A page's next_cursor")),
        **fields,
    )


NeedQuery = _search_query("NeedQuery", NEED_FACETS, NEED_SORTS)
ProductQuery = _search_query("ProductQuery", PRODUCT_FACETS, PRODUCT_SORTS)
