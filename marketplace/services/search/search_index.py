"""An in-process column index of financing needs: facet counts and result order for search.

Counting eight drill-down facets over ~100,000 visible needs cost PostgreSQL 90–130 ms a search
(hash aggregation over text and JSON columns); over numpy columns it costs a few milliseconds.
The index keeps a few numbers per need (codes of the facet values, bands, sort keys: about 70
bytes, 7 MB per 100,000 needs in each worker process) and follows the database exactly through
the commit-ordered revisions of services/changes.py: every search reads the counter (one
primary-key lookup) and, when it has moved, loads only the needs stamped since. The database
stays the source of truth: text matching and the rows a page shows come from it.
"""

import gc
import json
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from threading import Lock

import numpy as np
from sqlalchemy import DateTime, Float, String, cast, select
from sqlalchemy import type_coerce as coerce

from marketplace.extensions import db
from marketplace.models import FinancingNeed
from marketplace.services.listings import changes
from marketplace.services.listings.visibility import VISIBLE_NEED_STATUSES
from marketplace.services.search.search_bands import AMOUNT_BANDS, TENOR_BANDS

VISIBLE = frozenset(VISIBLE_NEED_STATUSES)
CODED = ("sector", "country", "stage", "currency")  # facets stored as codes of their values
BANDED = {"amount": AMOUNT_BANDS, "tenor": TENOR_BANDS}  # facets stored as band numbers
MAX_INSTRUMENTS = 64  # instruments are bits of one uint64 per need

_CODE_COLUMNS = {
    "sector": "sector",
    "country": "country_iso2",
    "stage": "stage",
    "currency": "currency",
}


@dataclass(frozen=True)
class NeedIndex:
    """One immutable snapshot; a change builds a new one, so readers never see a half update."""

    revision: changes.Revision | None
    ids: np.ndarray  # int64, ascending
    visible: np.ndarray  # bool
    codes: dict[str, np.ndarray]  # facet -> int32 code (CODED) or band number (BANDED)
    vocab: dict[str, tuple[str, ...]]  # facet -> values by code, for CODED and "instrument"
    instruments: np.ndarray  # uint64 bit set over vocab["instrument"]
    keys: dict[str, np.ndarray]  # sort keys, float64 with NaN for missing
    _orders: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    def mask_of(self, ids) -> np.ndarray:
        """A row mask of the given need ids (ids the index does not hold are ignored)."""
        mask = np.zeros(len(self.ids), dtype=bool)
        wanted = np.asarray(ids, dtype=np.int64)
        if wanted.size and self.ids.size:
            at = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
            mask[at[self.ids[at] == wanted]] = True
        return mask

    def value_mask(self, facet: str, values) -> np.ndarray:
        """Rows whose facet value is one of `values` (codes for CODED, band keys for BANDED)."""
        if facet in BANDED:
            numbers = [i for i, band in enumerate(BANDED[facet]) if band.key in set(values)]
            return np.isin(self.codes[facet], numbers)
        if facet == "instrument":
            return (self.instruments & np.uint64(self._bits(values))) != 0
        known = {value: code for code, value in enumerate(self.vocab[facet])}
        return np.isin(self.codes[facet], [known[v] for v in values if v in known])

    def _bits(self, values) -> int:
        positions = {value: bit for bit, value in enumerate(self.vocab["instrument"])}
        return sum(1 << positions[v] for v in values if v in positions)

    def count(self, facet: str, mask: np.ndarray) -> Counter:
        """Rows under the mask per value of the facet."""
        if facet == "instrument":
            chosen = self.instruments[mask]
            return Counter(
                {
                    value: int(np.count_nonzero(chosen & np.uint64(1 << bit)))
                    for bit, value in enumerate(self.vocab["instrument"])
                }
            )
        names = [band.key for band in BANDED[facet]] if facet in BANDED else self.vocab[facet]
        numbers = np.bincount(self.codes[facet][mask], minlength=len(names))
        return Counter({name: int(n) for name, n in zip(names, numbers, strict=False) if n})

    def order(self, sort: str) -> np.ndarray:
        """Row positions in the sort's order, ties newest id first (computed once a snapshot)."""
        if sort not in self._orders:
            self._orders[sort] = np.lexsort((-self.ids, _primary_key(self.keys, sort)))
        return self._orders[sort]

    def page(self, mask: np.ndarray, sort: str, offset: int, limit: int) -> list[int]:
        """Need ids of one page of the rows under the mask."""
        order = self.order(sort)
        return self.ids[order[mask[order]][offset : offset + limit]].tolist()


def _primary_key(keys: dict[str, np.ndarray], sort: str) -> np.ndarray:
    """Ascending key of a sort order; missing values (NaN) last, as NULLS LAST."""
    if sort == "amount_asc":
        return keys["amount"]
    if sort == "tco2e_per_usd":
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(keys["amount"] > 0, keys["tco2e"] / keys["amount"], np.nan)
        key = -ratio
    else:
        key = -keys[{"newest": "published", "amount": "amount", "tco2e": "tco2e"}[sort]]
    return np.where(np.isnan(key), np.inf, key)


# --- loading ---------------------------------------------------------------------------------


def _empty() -> NeedIndex:
    return NeedIndex(
        None,
        np.zeros(0, np.int64),
        np.zeros(0, bool),
        {facet: np.zeros(0, np.int32) for facet in (*CODED, *BANDED)},
        {facet: () for facet in (*CODED, "instrument")},
        np.zeros(0, np.uint64),
        {key: np.zeros(0) for key in ("published", "amount", "tco2e")},
    )


def _bands(values: np.ndarray, bands) -> np.ndarray:
    """Band numbers: the first band whose upper limit is above the value (missing: the last)."""
    highs = np.array([band.high for band in bands[:-1]], dtype=np.float64)
    return np.searchsorted(highs, values, side="right").astype(np.int32)


def _epoch(at: datetime | str | None) -> float:
    """Seconds since 1970 of a stored UTC time (SQLite's driver gives text without a zone)."""
    if at is None:
        return np.nan
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def _floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _columns(columns: dict[str, tuple], vocab: dict[str, tuple[str, ...]]) -> tuple[dict, dict]:
    """Arrays for the fetched columns, and the vocabularies grown by values not seen before."""
    vocab = {facet: list(values) for facet, values in vocab.items()}
    lookup = {facet: {v: code for code, v in enumerate(values)} for facet, values in vocab.items()}

    def code(facet: str, value) -> int:
        table = lookup[facet]
        if value not in table:
            if facet == "instrument" and len(table) >= MAX_INSTRUMENTS:
                return -1
            table[value] = len(vocab[facet])
            vocab[facet].append(value)
        return table[value]

    def codes(facet: str, values: tuple) -> np.ndarray:
        known = {value: code(facet, value) for value in sorted(set(values), key=str)}
        return np.fromiter(map(known.__getitem__, values), np.int32, len(values))

    def bits(text) -> int:  # one JSON list of instruments (few distinct lists: parsed once each)
        items = json.loads(text) if text else []
        return sum(
            1 << bit
            for item in dict.fromkeys(items)
            if isinstance(item, str) and (bit := code("instrument", item)) >= 0
        )

    instrument_sets = {text: bits(text) for text in sorted(set(columns["instruments"]), key=str)}
    amounts = _floats(columns["amount_usd"])
    arrays = {
        "ids": np.array(columns["id"], dtype=np.int64),
        "visible": np.fromiter(
            (status in VISIBLE for status in columns["status"]), bool, len(columns["id"])
        ),
        "instruments": np.array(
            [instrument_sets[t] for t in columns["instruments"]], dtype=np.uint64
        ),
        **{facet: codes(facet, columns[name]) for facet, name in _CODE_COLUMNS.items()},
        "amount": _bands(amounts, AMOUNT_BANDS),
        "tenor": _bands(_floats(columns["tenor_years"]), TENOR_BANDS),
        "published": np.array([_epoch(at) for at in columns["published_at"]], dtype=np.float64),
        "amount_key": amounts,
        "tco2e": _floats(columns["tco2e"]),
    }
    return arrays, {facet: tuple(values) for facet, values in vocab.items()}


def _build(revision, arrays: dict, vocab: dict) -> NeedIndex:
    order = np.argsort(arrays["ids"], kind="stable")  # rows come unordered: sorting here is cheaper
    arrays = {name: array[order] for name, array in arrays.items()}
    return NeedIndex(
        revision,
        arrays["ids"],
        arrays["visible"],
        {facet: arrays[facet] for facet in (*CODED, *BANDED)},
        vocab,
        arrays["instruments"],
        {
            "published": arrays["published"],
            "amount": arrays["amount_key"],
            "tco2e": arrays["tco2e"],
        },
    )


def _flatten(index: NeedIndex) -> dict:
    return {
        "ids": index.ids,
        "visible": index.visible,
        **index.codes,
        "instruments": index.instruments,
        "published": index.keys["published"],
        "amount_key": index.keys["amount"],
        "tco2e": index.keys["tco2e"],
    }


def _fetch(since: int | None) -> dict[str, tuple]:
    """The index's columns of every need (or of those stamped after `since`), in no order."""
    table = FinancingNeed.__table__
    # Plain types: no enum, JSON or decimal conversion per row (the JSON lists are parsed once
    # per distinct list in _columns); Core, not the ORM, reads the rows.
    statement = select(
        table.c.id,
        coerce(table.c.status, String).label("status"),
        table.c.sector,
        table.c.country_iso2,
        table.c.stage,
        table.c.currency,
        cast(table.c.amount_usd, Float).label("amount_usd"),
        table.c.tenor_years,
        cast(table.c.instruments, String).label("instruments"),
        coerce(table.c.published_at, DateTime()).label("published_at"),
        cast(table.c.estimated_tco2e_per_year, Float).label("tco2e"),
    )
    if since is not None:
        statement = statement.where(table.c.revision > since)
    connection = db.session.connection()
    # Through the driver's own cursor, in the session's transaction (the only parameter is our
    # own integer, bound as a literal): SQLAlchemy's per-row work would double the time.
    sql = str(statement.compile(connection, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else {}


def load(revision: changes.Revision | None) -> NeedIndex:
    """Every need, read afresh."""
    # A million short-lived tuples would trigger the cycle collector again and again (it found
    # nothing to free and doubled the time); none of them can form a cycle.
    collecting = gc.isenabled()
    gc.disable()
    try:
        columns = _fetch(None)
        if not columns:
            return replace(_empty(), revision=revision)
        arrays, vocab = _columns(columns, _empty().vocab)
        return _build(revision, arrays, vocab)
    finally:
        if collecting:
            gc.enable()


def catch_up(index: NeedIndex, revision: changes.Revision) -> NeedIndex:
    """The index with the needs stamped after its revision read again."""
    rows = _fetch(index.revision.value)
    if not rows:
        return replace(index, revision=revision, _orders=index._orders)
    fresh, vocab = _columns(rows, index.vocab)
    old = _flatten(index)
    keep = ~np.isin(index.ids, fresh["ids"])
    merged = {name: np.concatenate((old[name][keep], fresh[name])) for name in old}
    return _build(revision, merged, vocab)


_indexes: dict[str, NeedIndex] = {}
_lock = Lock()


def current() -> NeedIndex:
    """The index as of the database's committed revision (refreshed when it has moved)."""
    revision = changes.current(db.session)
    key = str(db.engine.url)
    with _lock:
        index = _indexes.get(key)
        if index is not None and revision is not None and index.revision == revision:
            return index
        if (
            index is None
            or revision is None
            or index.revision is None
            or index.revision.generation != revision.generation
            or revision.value < index.revision.value
        ):
            index = load(revision)
        else:
            index = catch_up(index, revision)
        _indexes[key] = index
        return index


def forget() -> None:
    """Drop every process-local index (the next search loads afresh)."""
    with _lock:
        _indexes.clear()
