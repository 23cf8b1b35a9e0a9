"""Faceted search of published needs; filters, facets and pages shared with product search.

Facets count with every *other* facet's filter applied (OR within a facet, AND across facets).
Dialect differences (PostgreSQL vs SQLite) stay inside this module.
"""
import re
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from threading import Lock

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    case,
    cast,
    exists,
    func,
    literal_column,
    or_,
    select,
    tuple_,
)
from sqlalchemy import type_coerce as coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import joinedload

from marketplace.extensions import db
from marketplace.models import Country, FinancingNeed, NeedStatus
from marketplace.reference import sectors
from marketplace.services.search_bands import AMOUNT_BANDS, TENOR_BANDS, Band

VISIBLE_STATUSES = (NeedStatus.PUBLISHED, NeedStatus.IN_NEGOTIATION)
PER_PAGE = 20
MAX_QUERY_CHARS = 200
MAX_TERMS = 6


NEED_FACETS = ("sector", "country", "region", "instrument", "stage", "currency", "amount", "tenor")
PRODUCT_FACETS = ("type", "sector", "region", "currency", "ticket", "tenor")
NEED_SORTS = ("newest", "amount", "amount_asc", "tco2e", "tco2e_per_usd")
PRODUCT_SORTS = ("newest", "ticket", "ticket_asc")
TARGETS = {"needs": (NEED_FACETS, NEED_SORTS), "products": (PRODUCT_FACETS, PRODUCT_SORTS)}

# Facets whose keys come from a fixed vocabulary; country and region come from the Country table.
_VOCABULARY = {
    "sector": sectors.SECTORS, "instrument": sectors.INSTRUMENTS, "type": sectors.INSTRUMENTS,
    "stage": sectors.STAGES, "currency": sectors.CURRENCIES,
    "amount": tuple(b.key for b in AMOUNT_BANDS), "ticket": tuple(b.key for b in AMOUNT_BANDS),
    "tenor": tuple(b.key for b in TENOR_BANDS),
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
    known = {**_VOCABULARY, "country": tuple(geo.names),
             "region": tuple(sorted(set(geo.region_of.values())))}
    chosen = {}
    for facet in facets:
        keys = [k for k in _as_list(args.get(facet)) if k in known[facet]]
        if keys:
            chosen[facet] = tuple(dict.fromkeys(keys))
    sort = next(iter(_as_list(args.get("sort"))), "newest")
    return Filters(target, clean_text(next(iter(_as_list(args.get("q"))), "")), chosen,
                   sort if sort in sorts else "newest")


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
    """A page number from the URL; anything but a positive integer means page 1."""
    try:
        page = int(str(value).strip())
    except (TypeError, ValueError):
        return 1
    return page if page >= 1 else 1


# --- full text ------------------------------------------------------------------------------

def concat_text(*columns) -> ColumnElement[str]:
    # Literal separators so the SQL matches the trigram index expression of migration 0002.
    parts = [func.coalesce(column, literal_column("''")) for column in columns]
    expression = parts[0]
    for part in parts[1:]:
        expression = expression.op("||")(literal_column("' '")).op("||")(part)
    return expression


NEED_TEXT = concat_text(FinancingNeed.title_en, FinancingNeed.title_zh, FinancingNeed.summary_en,
                    FinancingNeed.summary_zh, FinancingNeed.description)


def text_condition(expression, q: str) -> ColumnElement[bool] | None:
    """Every word must occur as a substring, in any case: right for Chinese, which has no spaces."""
    # PostgreSQL's trigram index serves words of 3+ characters; shorter ones (光伏) scan.
    terms = q.split()[:MAX_TERMS]
    if not terms:
        return None
    return and_(*[_contains(expression, term) for term in terms])


def _contains(expression, term: str) -> ColumnElement[bool]:
    # PostgreSQL: LIKE for uncased scripts (Chinese) and a case-blind regular expression for
    # the rest, both served by the trigram index and both much cheaper than ILIKE on UTF-8.
    # SQLite: LIKE, which ignores ASCII case, as SQLite's lower() does.
    if _is_postgres() and term.lower() != term.upper():
        return expression.op("~*")(_REGEX_SPECIAL.sub(r"\\\g<0>", term))
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return expression.like(pattern, escape="\\")


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


# --- needs: one scan counts every facet -----------------------------------------------------

def _band_case(column, bands: tuple[Band, ...]):
    # Literal limits and keys, tested in order: cheap on numeric columns and free of parameters.
    whens = [(column < literal_column(str(band.high)), literal_column(f"'{band.key}'"))
             for band in bands[:-1]]
    return case(*whens, else_=literal_column(f"'{bands[-1].key}'"))


_NEED_DIMENSIONS = {
    "sector": FinancingNeed.sector, "stage": FinancingNeed.stage,
    "currency": FinancingNeed.currency,
    "amount": _band_case(FinancingNeed.amount_usd, AMOUNT_BANDS),
    "tenor": _band_case(FinancingNeed.tenor_years, TENOR_BANDS),
    "country": FinancingNeed.country_iso2, "instrument": FinancingNeed.instruments,
}
# Two grouping sets: PostgreSQL fills two hash tables per row, Python adds them up per facet.
_GROUPING_SETS = (("sector", "stage", "currency", "amount", "tenor"), ("country", "instrument"))
# Country and region filter as one group: both facets come from per-country counts without it.
_GROUP = {"region": "country"}


def _instrument_condition(keys: tuple[str, ...]) -> ColumnElement[bool]:
    if _is_postgres():
        column = coerce(FinancingNeed.instruments, JSONB)
        return or_(*[column.contains([key]) for key in keys])
    each = func.json_each(FinancingNeed.instruments).table_valued("value")
    return exists(select(literal_column("1")).select_from(each).where(each.c.value.in_(keys)))


def _need_condition(facet: str, keys: tuple[str, ...], geo: Geography) -> ColumnElement[bool]:
    if facet == "region":
        return FinancingNeed.country_iso2.in_(geo.countries_in(keys))
    if facet == "instrument":
        return _instrument_condition(keys)
    if facet in ("amount", "tenor"):
        column = FinancingNeed.amount_usd if facet == "amount" else FinancingNeed.tenor_years
        bands = AMOUNT_BANDS if facet == "amount" else TENOR_BANDS
        return or_(*[band.condition(column) for band in bands if band.key in keys])
    return _NEED_DIMENSIONS[facet].in_(keys)


def _filter_groups(filters: Filters, geo: Geography) -> dict[str, ColumnElement[bool]]:
    """One condition per chosen facet group (OR within a facet, AND across facets)."""
    groups: dict[str, ColumnElement[bool]] = {}
    for facet, keys in filters.chosen.items():
        group, condition = _GROUP.get(facet, facet), _need_condition(facet, keys, geo)
        groups[group] = and_(groups[group], condition) if group in groups else condition
    return groups


def _base_where(filters: Filters) -> list:
    where = [FinancingNeed.status.in_(VISIBLE_STATUSES)]
    if (text := text_condition(NEED_TEXT, filters.q)) is not None:
        where.append(text)
    return where


def _facet_statement(filters: Filters, conditions: list[ColumnElement[bool]]):
    """Counts per facet value and per `miss`, the one filter group a row fails (0: none)."""
    # A row failing one group counts for that group's facets only (drill-down); rows failing
    # two or more count nowhere, so the WHERE clause leaves them out.
    miss = case(*[(~condition, literal_column(str(number)))
                  for number, condition in enumerate(conditions, 1)], else_=literal_column("0"))
    where = _base_where(filters)
    if len(conditions) > 1:
        where.append(or_(*[and_(*conditions[:i], *conditions[i + 1:])
                           for i in range(len(conditions))]))
    rows = select(miss.label("miss") if conditions else literal_column("0").label("miss"),
                  *[column.label(name) for name, column in _NEED_DIMENSIONS.items()]
                  ).where(*where).subquery()
    statement = select(rows, func.count().label("n"))
    if _is_postgres():
        return statement.group_by(func.grouping_sets(
            *[tuple_(rows.c.miss, *[rows.c[name] for name in names]) for names in _GROUPING_SETS]))
    return statement.group_by(*rows.c)


def _need_facet_counts(filters: Filters, geo: Geography) -> tuple[dict[str, Counter], int]:
    """Counts per facet (each without its own filter) and the number of matching needs."""
    groups = _filter_groups(filters, geo)
    number = {group: n for n, group in enumerate(groups, 1)}
    facets = list(_NEED_DIMENSIONS)
    counted_when = [(0, number.get(facet)) for facet in facets]  # the `miss` values that count
    counts: dict[str, Counter] = {facet: Counter() for facet in facets}
    total = 0
    rows = db.session.execute(_facet_statement(filters, list(groups.values()))).tuples()
    for miss, *keys, n in rows:
        for facet, key, counted in zip(facets, keys, counted_when, strict=True):
            if key is not None and miss in counted:
                for item in key if facet == "instrument" else (key,):
                    counts[facet][item] += n
        if miss == 0 and keys[0] is not None:  # keys[0] is the sector: one row set per need
            total += n
    counts["country"], counts["region"] = _split_geo(counts["country"], filters, geo)
    return counts, total


def _split_geo(by_country: Counter, filters: Filters, geo: Geography) -> tuple[Counter, Counter]:
    """Country counts within the chosen regions; region counts over the chosen countries."""
    regions, countries = set(filters.values("region")), set(filters.values("country"))
    country_counts = Counter({iso2: n for iso2, n in by_country.items()
                              if not regions or geo.region_of.get(iso2) in regions})
    region_counts: Counter = Counter()
    for iso2, n in by_country.items():
        if not countries or iso2 in countries:
            region_counts[geo.region_of.get(iso2, "")] += n
    return country_counts, region_counts


def facet_values(facets: tuple[str, ...], counts: dict[str, Counter],
                  filters: Filters) -> dict[str, list[FacetValue]]:
    """Values with matches (and chosen ones), in vocabulary order or by count."""
    result = {}
    for facet in facets:
        chosen, found = filters.values(facet), counts.get(facet, Counter())
        order = _VOCABULARY.get(facet) or [key for key, _n in found.most_common()]
        keys = [k for k in order if found.get(k) or k in chosen]
        keys += [k for k in chosen if k not in keys]
        result[facet] = [FacetValue(k, found.get(k, 0), k in chosen) for k in keys]
    return result


NEED_ORDER = {
    "newest": (FinancingNeed.published_at.desc().nulls_last(),),
    "amount": (FinancingNeed.amount_usd.desc(),),
    "amount_asc": (FinancingNeed.amount_usd.asc(),),
    "tco2e": (FinancingNeed.estimated_tco2e_per_year.desc().nulls_last(),),
}


def _need_order(sort: str) -> tuple:
    if sort != "tco2e_per_usd":
        return (*NEED_ORDER[sort], FinancingNeed.id.desc())
    tco2e, amount = FinancingNeed.estimated_tco2e_per_year, FinancingNeed.amount_usd
    if _is_postgres():
        # A plain "/" (SQLAlchemy would add a cast), as in ix_financing_needs_tco2e_per_usd.
        ratio = tco2e.op("/")(func.nullif(amount, literal_column("0")))
    else:  # SQLite keeps whole numbers as integers and would divide them as integers
        ratio = cast(tco2e, Float) / func.nullif(amount, 0)
    return ratio.desc().nulls_last(), FinancingNeed.id.desc()


# Facet counts per process, keyed by the data's version too, so a hit is always exact; paging,
# sorting and repeated searches then skip the one expensive query.
_facet_cache: OrderedDict[tuple, tuple[dict[str, Counter], int]] = OrderedDict()
_facet_cache_lock = Lock()


def _data_version() -> tuple:
    """Changes whenever a need is added (ids grow) or edited (updated_at is stamped)."""
    return tuple(db.session.execute(select(func.max(FinancingNeed.id),
                                           func.max(FinancingNeed.updated_at))).one())


def _cached_facet_counts(filters: Filters, geo: Geography) -> tuple[dict[str, Counter], int]:
    size = current_app.config.get("SEARCH_FACET_CACHE_SIZE", 256)
    if not size:
        return _need_facet_counts(filters, geo)
    key = (str(db.engine.url), filters.q, tuple(sorted(filters.chosen.items())), _data_version())
    with _facet_cache_lock:
        if key in _facet_cache:
            _facet_cache.move_to_end(key)
            return _facet_cache[key]
    counts = _need_facet_counts(filters, geo)
    with _facet_cache_lock:
        _facet_cache[key] = counts
        while len(_facet_cache) > size:
            _facet_cache.popitem(last=False)
    return counts


def clear_facet_cache() -> None:
    with _facet_cache_lock:
        _facet_cache.clear()


def search_needs(filters: Filters, page: int = 1, geo: Geography | None = None) -> SearchPage:
    """One page of visible needs matching the filters, with drill-down facet counts."""
    geo = geo or geography()
    counts, total = _cached_facet_counts(filters, geo)
    page = min(page, max(1, -(-total // PER_PAGE)))
    statement = (select(FinancingNeed).where(*need_conditions(filters, geo))
                 .order_by(*_need_order(filters.sort))
                 .options(joinedload(FinancingNeed.organisation))
                 .limit(PER_PAGE).offset((page - 1) * PER_PAGE))
    items = list(db.session.scalars(statement))
    return SearchPage(filters, items, total, page, facet_values(NEED_FACETS, counts, filters))


def need_conditions(filters: Filters, geo: Geography) -> list[ColumnElement[bool]]:
    """The WHERE clause of a search: visible needs matching the words and every facet."""
    return [*_base_where(filters), *_filter_groups(filters, geo).values()]

