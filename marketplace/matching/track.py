"""Investors' track records as pair features: what a product's investor financed before, against
the need in front of it.

Distinct track records (an investor's deals, carried by each of its products) are reduced once
to sorted keys (record × country, region, technology or sector) with a count and the latest
year, so a pair's features are a few binary searches: no loop over products at query time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from .index import MatchingIndex
from .records import Need, Product, TrackDeal

FIELDS = ("country", "region", "technology", "sector")
TRACK_FEATURES = (
    "track_has_record",
    "track_log_deals_country",
    "track_log_deals_region",
    "track_log_deals_technology",
    "track_log_deals_sector",
    "track_recency",
    "track_log_size_ratio",
    "track_log_co_financiers",
)
RECENCY_YEARS = 20  # a relevant deal this many years ago or earlier counts as none


@dataclass
class Keyed:
    """Deal counts and latest year per (record, value) key, sorted by key."""

    keys: np.ndarray  # ends with a sentinel key (count 0, no year)
    count: np.ndarray
    latest: np.ndarray  # NaN when no deal of the key has a year
    width: int  # key = record * width + value code

    def find(self, rows, codes) -> tuple[np.ndarray, np.ndarray]:
        """(found, position) of broadcast (record, code) pairs; a record or code < 0 is never
        found."""
        wanted = np.asarray(rows, dtype=np.int64) * self.width + np.asarray(codes)
        # The last key is a sentinel above every real one: a position is always valid.
        position = np.searchsorted(self.keys, wanted)
        return (self.keys[position] == wanted) & (np.asarray(codes) >= 0), position


@dataclass
class TrackTable:
    """Track-record aggregates of a list of products (rows as in the list). Products that carry
    the same deals (an investor's record, on each of its products) share one *record*."""

    record_of: np.ndarray  # per product: its record's number, -1 without deals
    median_usd: np.ndarray  # per record; NaN when no deal has an amount
    co_financiers: np.ndarray  # per product: distinct co-financiers known to the index
    fields: dict[str, Keyed]  # keyed by record × value
    vocabulary: dict[str, dict[str, int]]
    reference_year: int

    @property
    def empty(self) -> bool:
        """No product has a track record: every feature is 0."""
        return not self.median_usd.size

    def codes(self, needs: Sequence[Need]) -> dict[str, np.ndarray]:
        """Each need's value code per field in this table's vocabulary (-1: no deal has it)."""
        values = {
            "country": [n.country for n in needs],
            "region": [n.region for n in needs],
            "technology": [n.technology for n in needs],
            "sector": [n.sector for n in needs],
        }
        return {
            name: np.array([self.vocabulary[name].get(v, -1) for v in values[name]], np.int64)
            for name in FIELDS
        }

    def features(self, product_rows, codes: dict, amount_usd) -> dict[str, np.ndarray]:
        """The TRACK_FEATURES of broadcast (product row, need) pairs."""
        shape = np.broadcast_shapes(np.shape(product_rows), *(np.shape(c) for c in codes.values()))
        if self.empty:
            return {name: np.zeros(shape) for name in TRACK_FEATURES}
        record = self.record_of[product_rows]
        has = record >= 0
        out = self._deal_counts(record, codes)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.log(self.median_usd[record] / np.asarray(amount_usd))
        out["track_log_size_ratio"] = np.where(has, np.nan_to_num(np.clip(ratio, -3, 3)), 0.0)
        partners = np.log1p(self.co_financiers[product_rows])
        out["track_log_co_financiers"] = np.where(has, partners, 0.0)
        out["track_has_record"] = has.astype(np.float64)
        return {name: np.broadcast_to(out[name], shape) for name in TRACK_FEATURES}

    def _deal_counts(self, record: np.ndarray, codes: dict) -> dict[str, np.ndarray]:
        """Deals in the need's country, region, technology and sector, and how recent."""
        out, latest = {}, np.nan
        for name in FIELDS:
            table = self.fields[name]
            found, at = table.find(record, codes[name])
            out[f"track_log_deals_{name}"] = np.where(found, np.log1p(table.count[at]), 0.0)
            if name in ("country", "sector"):  # a relevant deal: same country or same sector
                latest = np.fmax(latest, np.where(found, table.latest[at], np.nan))
        years = self.reference_year - latest
        out["track_recency"] = np.nan_to_num(np.clip(1 - years / RECENCY_YEARS, 0, 1))
        return out


def _keyed(entries: dict[tuple[int, int], list], width: int) -> Keyed:
    keys = sorted(entries)
    flat = [row * width + code for row, code in keys] + [np.iinfo(np.int64).max]
    years = [[y for y in entries[k] if y is not None] for k in keys]
    return Keyed(
        np.array(flat, dtype=np.int64),
        np.array([len(entries[k]) for k in keys] + [0], dtype=np.float64),
        np.array([max(y) if y else np.nan for y in years] + [np.nan], dtype=np.float64),
        width,
    )


def known_ids(products: Sequence[Product]) -> frozenset[str]:
    """Ids of products and investors, as co-financiers name them."""
    return frozenset(str(p.id) for p in products) | {
        str(p.investor_id) for p in products if p.investor_id is not None
    }


def _records(products: Sequence[Product]) -> tuple[np.ndarray, list[tuple[TrackDeal, ...]]]:
    """Each product's record number (-1 without deals) and the distinct records. The same
    tuple object is recognised at once, an equal one by its hash."""
    by_identity: dict[int, int] = {}
    by_value: dict[tuple[TrackDeal, ...], int] = {}
    record_of = np.full(len(products), -1, dtype=np.int64)
    for row, product in enumerate(products):
        deals = product.track_record
        if deals:
            number = by_identity.get(id(deals))
            if number is None:
                number = by_identity[id(deals)] = by_value.setdefault(deals, len(by_value))
            record_of[row] = number
    return record_of, list(by_value)


def _partners(products, record_of, records, known: frozenset[str]) -> np.ndarray:
    """Per product: distinct co-financiers of its deals that are other products or investors."""
    out = np.zeros(len(products), dtype=np.float32)
    if not known:
        return out
    named = [{c for deal in deals for c in deal.co_financiers} & known for deals in records]
    for row in np.flatnonzero(record_of >= 0):
        product, shared = products[row], named[record_of[row]]
        if shared:
            out[row] = len(shared - {str(product.id), str(product.investor_id)})
    return out


def _aggregate(records: list[tuple[TrackDeal, ...]]):
    """Vocabulary, per-field (record, value) → deal years, and median amount per record."""
    vocabulary: dict[str, dict[str, int]] = {name: {} for name in FIELDS}
    entries: dict[str, dict[tuple[int, int], list]] = {name: {} for name in FIELDS}
    for number, deals in enumerate(records):
        for deal in deals:
            for name in FIELDS:
                value = getattr(deal, name)
                if value is not None:
                    code = vocabulary[name].setdefault(value, len(vocabulary[name]))
                    entries[name].setdefault((number, code), []).append(deal.year)
    medians = [
        np.median(amounts) if amounts else np.nan
        for amounts in (
            [d.amount_usd for d in deals if (d.amount_usd or 0) > 0] for deals in records
        )
    ]
    return vocabulary, entries, np.array(medians, dtype=np.float64)


def build_table(
    products: Sequence[Product], known: frozenset[str] | None = None, reference_year=None
) -> TrackTable:
    """Aggregate the track records of products; `known` = ids of products and investors that
    count as co-financiers (by default: these products and their investors)."""
    record_of, records = _records(products)
    if known is None:
        named = any(d.co_financiers for deals in records for d in deals)
        known = known_ids(products) if named else frozenset()
    vocabulary, entries, medians = _aggregate(records)
    return TrackTable(
        record_of=record_of,
        median_usd=medians,
        co_financiers=_partners(products, record_of, records, known),
        fields={n: _keyed(entries[n], len(vocabulary[n]) + 1) for n in FIELDS},
        vocabulary=vocabulary,
        reference_year=reference_year or datetime.now(UTC).year,
    )


def index_table(index: MatchingIndex) -> TrackTable:
    """The track table of the index's products, built on first use."""
    if "track" not in index.cache:
        index.cache["track"] = build_table(index.products.records)
    return index.cache["track"]


def _amounts(needs: Sequence[Need]) -> np.ndarray:
    return np.array([np.nan if n.amount_usd is None else n.amount_usd for n in needs])


def for_need(index: MatchingIndex, need: Need, product_rows) -> dict[str, np.ndarray]:
    """Track features of one need against some products of the index."""
    table = index_table(index)
    codes = {name: code[0] for name, code in table.codes([need]).items()}
    return table.features(product_rows, codes, _amounts([need])[0])


def for_product(index: MatchingIndex, product: Product, need_rows) -> dict[str, np.ndarray]:
    """Track features of one product (indexed or new) against some needs of the index."""
    row = index.products.row_of.get(product.id)
    if row is not None and index.products.records[row] is product:
        table = index_table(index)
    else:
        named = any(d.co_financiers for d in product.track_record)
        if named and "track_known" not in index.cache:
            index.cache["track_known"] = known_ids(index.products.records)
        table = build_table([product], index.cache.get("track_known", frozenset()))
        row = 0
    needs = [index.needs.records[r] for r in np.asarray(need_rows).ravel()]
    return table.features(np.int64(row), table.codes(needs), _amounts(needs))


def for_grid(index: MatchingIndex, need_rows) -> dict[str, np.ndarray]:
    """Track features of some needs (rows) against every product of the index (columns)."""
    table = index_table(index)
    needs = [index.needs.records[r] for r in need_rows]
    codes = {name: code[:, None] for name, code in table.codes(needs).items()}
    products = np.arange(len(index.products))[None, :]
    return table.features(products, codes, _amounts(needs)[:, None])


def for_pairs(index: MatchingIndex, need_rows, product_rows) -> dict[str, np.ndarray]:
    """Track features of aligned (need row, product row) pairs."""
    table = index_table(index)
    if table.empty:
        return table.features(np.asarray(product_rows), {}, np.nan)
    unique, inverse = np.unique(need_rows, return_inverse=True)
    needs = [index.needs.records[r] for r in unique]
    codes = {name: code[inverse] for name, code in table.codes(needs).items()}
    return table.features(np.asarray(product_rows), codes, _amounts(needs)[inverse])
