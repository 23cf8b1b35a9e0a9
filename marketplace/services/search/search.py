"""Faceted search of published needs; filters, facets and pages shared with product search.

Facets count with every *other* facet's filter applied (OR within a facet, AND across facets).
Needs: the database matches the words (trigram-indexed LIKE on the stored lower-case text); the
in-process column index (search_index.py) counts the facets and orders the page; the page's rows
come from the database. Dialect differences (PostgreSQL vs SQLite) stay inside this module.
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import ColumnElement, Text, and_, exists, func, literal_column, or_, select
from sqlalchemy import type_coerce as coerce
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import joinedload

from marketplace.extensions import db
from marketplace.models import Country, FinancingNeed, NeedSearchText
from marketplace.models.need import HAN
from marketplace.parsing import page_number
from marketplace.reference import sectors
from marketplace.services.listings.visibility import VISIBLE_NEED_STATUSES
from marketplace.services.search import search_index
from marketplace.services.search.search_bands import AMOUNT_BANDS, TENOR_BANDS

VISIBLE_STATUSES = VISIBLE_NEED_STATUSES
PER_PAGE = 20
MAX_QUERY_CHARS = 200
MAX_TERMS = 6


NEED_FACETS = ("sector", "country", "region", "instrument", "stage", "currency", "amount", "tenor")
# financed_*: what the product's investor has financed before (its track record).
PRODUCT_FACETS = ("type", "sector", "region", "currency", "ticket", "tenor", "financed_country")
PRODUCT_FACETS += ("financed_technology",)
NEED_SORTS = ("newest", "amount", "amount_asc", "tco2e", "tco2e_per_usd")
PRODUCT_SORTS = ("newest", "ticket", "ticket_asc")
TARGETS = {"needs": (NEED_FACETS, NEED_SORTS), "products": (PRODUCT_FACETS, PRODUCT_SORTS)}

# Facets whose keys come from a fixed vocabulary; country and region come from the Country table.
_VOCABULARY = {
    "sector": sectors.SECTORS,
    "instrument": sectors.INSTRUMENTS,
    "type": sectors.INSTRUMENTS,
    "stage": sectors.STAGES,
    "currency": sectors.CURRENCIES,
    "amount": tuple(b.key for b in AMOUNT_BANDS),
    "ticket": tuple(b.key for b in AMOUNT_BANDS),
    "tenor": tuple(b.key for b in TENOR_BANDS),
    "financed_technology": tuple(sectors.TECHNOLOGIES),
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REGEX_SPECIAL = re.compile(r"[^\w\s]")


@dataclass(frozen=True)
class Filters:
    """One search as it appears in the URL: free text, chosen keys per facet, the sort order."""

    target: str = "needs"
    q: str = ""
    chosen: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sort: str = "newest"

    def values(self, facet: str) -> tuple[str, ...]:
        return self.chosen.get(facet, ())

    def to_params(self) -> dict:
        """Query-string parameters (also what a saved search stores); defaults left out."""
        params: dict = {facet: list(keys) for facet, keys in self.chosen.items() if keys}
        if self.q:
            params["q"] = self.q
        if self.sort != "newest":
            params["sort"] = self.sort
        return params

    def toggled(self, facet: str, key: str) -> dict:
        """The parameters with one facet value added or removed (back to page 1)."""
        keys = self.values(facet)
        keys = tuple(k for k in keys if k != key) if key in keys else (*keys, key)
        chosen = {**self.chosen, facet: keys}
        return Filters(self.target, self.q, chosen, self.sort).to_params()


@dataclass(frozen=True)
class FacetValue:
    key: str
    count: int
    selected: bool


@dataclass(frozen=True)
class SearchPage:
    """One page of results with the facet counts and the filters that were actually applied."""

    filters: Filters
    items: list
    total: int
    page: int
    facets: dict[str, list[FacetValue]]
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Geography:
    """Country names and World Bank regions from the Country table."""

    names: dict[str, str]
    region_of: dict[str, str]

    def countries_in(self, regions: Iterable[str]) -> list[str]:
        wanted = set(regions)
        return sorted(iso2 for iso2, region in self.region_of.items() if region in wanted)


def geography() -> Geography:
    rows = db.session.execute(select(Country.iso2, Country.name, Country.wb_region)).all()
    return Geography({r.iso2: r.name for r in rows}, {r.iso2: r.wb_region for r in rows})


# --- parsing: unknown or malformed values are dropped, never an error -------------------------


def parse_filters(args: Mapping[str, list[str]], target: str, geo: Geography) -> Filters:
    """Filters from query-string lists (or a saved search's dict), keeping only known values."""
    facets, sorts = TARGETS[target]
    known = {
        **_VOCABULARY,
        "country": tuple(geo.names),
        "financed_country": tuple(geo.names),
        "region": tuple(sorted(set(geo.region_of.values()))),
    }
    chosen = {}
    for facet in facets:
        keys = [k for k in _as_list(args.get(facet)) if k in known[facet]]
        if keys:
            chosen[facet] = tuple(dict.fromkeys(keys))
    sort = next(iter(_as_list(args.get("sort"))), "newest")
    return Filters(
        target,
        clean_text(next(iter(_as_list(args.get("q"))), "")),
        chosen,
        sort if sort in sorts else "newest",
    )


def _as_list(value) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else [value]
    return [item.strip() for item in items if isinstance(item, str)]


def clean_text(text: str) -> str:
    """Free text without control characters (PostgreSQL refuses NUL), composed and capped."""
    # NFC, not NFKC: NFKC would turn Chinese full-width punctuation into ASCII, which the
    # stored text does not contain.
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text or ""))
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def parse_page(value) -> int:
    """A page number from the URL; anything but a page from 1 to MAX_PAGE means page 1."""
    return page_number(value)


# --- full text ------------------------------------------------------------------------------


def concat_text(*columns) -> ColumnElement[str]:
    # Literal separators so the SQL matches the trigram index expression of migration 0002.
    parts = [func.coalesce(column, literal_column("''")) for column in columns]
    expression = parts[0]
    for part in parts[1:]:
        expression = expression.op("||")(literal_column("' '")).op("||")(part)
    return expression


def text_condition(expression, q: str) -> ColumnElement[bool] | None:
    """Every word must occur as a substring, in any case: right for Chinese, which has no spaces.

    For products (hundreds of rows, no text index); needs use their search texts (below).
    """
    terms = q.split()[:MAX_TERMS]
    if not terms:
        return None
    return and_(*[_contains(expression, term) for term in terms])


def _contains(expression, term: str) -> ColumnElement[bool]:
    # PostgreSQL: LIKE for uncased scripts (Chinese) and a case-blind regular expression for
    # the rest, both much cheaper than ILIKE on UTF-8.
    # SQLite: LIKE, which ignores ASCII case, as SQLite's lower() does.
    if _is_postgres() and term.lower() != term.upper():
        return expression.op("~*")(_REGEX_SPECIAL.sub(r"\\\g<0>", term))
    return expression.like(_like_pattern(term), escape="\\")


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


# --- needs ---------------------------------------------------------------------------------


def _word_conditions(q: str) -> list[ColumnElement[bool]]:
    """Each word occurs in the need's lower-case search text (so in any case).

    On the narrow need_search_texts table. PostgreSQL finds words of three or more characters
    with the trigram index and two-character Chinese words (风电) in the index of Han character
    pairs; other short words scan the few megabytes of text. SQLite scans with LIKE.
    """
    words = [unicodedata.normalize("NFC", term).lower() for term in q.split()[:MAX_TERMS]]
    return [
        _han_pair_condition(word)
        if _is_postgres() and _HAN_PAIR.fullmatch(word)
        else NeedSearchText.search_text.like(_like_pattern(word), escape="\\")
        for word in words
    ]


_HAN_PAIR = re.compile(f"[{HAN}]{{2}}")


def _han_pair_condition(word: str) -> ColumnElement[bool]:
    # The expression of ix_need_search_texts_han_pairs (migration 0005), with a literal
    # separator so that PostgreSQL matches it to the index.
    pairs = func.string_to_array(NeedSearchText.han_pairs, literal_column("' '"), type_=ARRAY(Text))
    return pairs.contains([word])


def need_text_condition(q: str) -> ColumnElement[bool] | None:
    words = _word_conditions(q)
    return FinancingNeed.id.in_(select(NeedSearchText.need_id).where(*words)) if words else None


def _like_pattern(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _instrument_condition(keys: tuple[str, ...]) -> ColumnElement[bool]:
    if _is_postgres():
        column = coerce(FinancingNeed.instruments, JSONB)
        return or_(*[column.contains([key]) for key in keys])
    each = func.json_each(FinancingNeed.instruments).table_valued("value")
    return exists(select(literal_column("1")).select_from(each).where(each.c.value.in_(keys)))


_NEED_COLUMNS = {
    "sector": FinancingNeed.sector,
    "stage": FinancingNeed.stage,
    "currency": FinancingNeed.currency,
    "country": FinancingNeed.country_iso2,
}
_BAND_COLUMNS = {
    "amount": (FinancingNeed.amount_usd, AMOUNT_BANDS),
    "tenor": (FinancingNeed.tenor_years, TENOR_BANDS),
}
# Country and region filter as one group: both facets come from per-country counts without it.
_GROUP = {"region": "country"}


def _need_condition(facet: str, keys: tuple[str, ...], geo: Geography) -> ColumnElement[bool]:
    if facet == "region":
        return FinancingNeed.country_iso2.in_(geo.countries_in(keys))
    if facet == "instrument":
        return _instrument_condition(keys)
    if facet in _BAND_COLUMNS:
        column, bands = _BAND_COLUMNS[facet]
        return or_(*[band.condition(column) for band in bands if band.key in keys])
    return _NEED_COLUMNS[facet].in_(keys)


def need_conditions(filters: Filters, geo: Geography) -> list[ColumnElement[bool]]:
    """The WHERE clause of a search: visible needs matching the words and every facet (alerts)."""
    where = [FinancingNeed.status.in_(VISIBLE_STATUSES)]
    if (text := need_text_condition(filters.q)) is not None:
        where.append(text)
    groups: dict[str, ColumnElement[bool]] = {}
    for facet, keys in filters.chosen.items():
        group, condition = _GROUP.get(facet, facet), _need_condition(facet, keys, geo)
        groups[group] = and_(groups[group], condition) if group in groups else condition
    return [*where, *groups.values()]


def _group_masks(
    index: search_index.NeedIndex, filters: Filters, geo: Geography
) -> dict[str, np.ndarray]:
    """One row mask per chosen facet group, as need_conditions would filter."""
    groups: dict[str, np.ndarray] = {}
    for facet, keys in filters.chosen.items():
        if facet == "region":
            mask = index.value_mask("country", geo.countries_in(keys))
        else:
            mask = index.value_mask(facet, keys)
        group = _GROUP.get(facet, facet)
        groups[group] = groups[group] & mask if group in groups else mask
    return groups


def _matching_ids(q: str) -> list[int]:
    """Ids of needs (of any status: the index knows which are visible) containing every word."""
    return list(db.session.scalars(select(NeedSearchText.need_id).where(*_word_conditions(q))))


def _need_facet_counts(
    index: search_index.NeedIndex,
    base: np.ndarray,
    groups: dict[str, np.ndarray],
    filters: Filters,
    geo: Geography,
) -> dict[str, Counter]:
    """Counts per facet, each with every filter group applied but its own."""
    counts = {}
    for facet in ("sector", "country", "instrument", "stage", "currency", "amount", "tenor"):
        own = _GROUP.get(facet, facet)
        mask = base.copy()
        for group, group_mask in groups.items():
            if group != own:
                mask &= group_mask
        counts[facet] = index.count(facet, mask)
    counts["country"], counts["region"] = _split_geo(counts["country"], filters, geo)
    return counts


def _split_geo(by_country: Counter, filters: Filters, geo: Geography) -> tuple[Counter, Counter]:
    """Country counts within the chosen regions; region counts over the chosen countries."""
    regions, countries = set(filters.values("region")), set(filters.values("country"))
    country_counts = Counter(
        {
            iso2: n
            for iso2, n in by_country.items()
            if not regions or geo.region_of.get(iso2) in regions
        }
    )
    region_counts: Counter = Counter()
    for iso2, n in by_country.items():
        if not countries or iso2 in countries:
            region_counts[geo.region_of.get(iso2, "")] += n
    return country_counts, region_counts


def facet_values(
    facets: tuple[str, ...], counts: dict[str, Counter], filters: Filters
) -> dict[str, list[FacetValue]]:
    """Values with matches (and chosen ones), in vocabulary order or by count."""
    result = {}
    for facet in facets:
        chosen, found = filters.values(facet), counts.get(facet, Counter())
        order = _VOCABULARY.get(facet) or [key for key, _n in found.most_common()]
        keys = [k for k in order if found.get(k) or k in chosen]
        keys += [k for k in chosen if k not in keys]
        result[facet] = [FacetValue(k, found.get(k, 0), k in chosen) for k in keys]
    return result


def search_needs(filters: Filters, page: int = 1, geo: Geography | None = None) -> SearchPage:
    """One page of visible needs matching the filters, with drill-down facet counts."""
    geo = geo or geography()
    index = search_index.current()
    base = index.visible.copy()
    if filters.q:
        base &= index.mask_of(_matching_ids(filters.q))
    groups = _group_masks(index, filters, geo)
    counts = _need_facet_counts(index, base, groups, filters, geo)
    matching = base
    for group_mask in groups.values():
        matching = matching & group_mask
    total = int(np.count_nonzero(matching))
    page = min(page, max(1, -(-total // PER_PAGE)))
    ids = index.page(matching, filters.sort, (page - 1) * PER_PAGE, PER_PAGE)
    rows = (
        {
            need.id: need
            for need in db.session.scalars(
                select(FinancingNeed)
                .where(FinancingNeed.id.in_(ids))
                .options(joinedload(FinancingNeed.organisation))
            )
        }
        if ids
        else {}
    )
    items = [rows[i] for i in ids if i in rows]
    return SearchPage(filters, items, total, page, facet_values(NEED_FACETS, counts, filters))
