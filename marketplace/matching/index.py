"""Column store of needs and products: numbers, token sets and TF-IDF rows, ready for scoring."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import scipy.sparse as sp

from .bitmaps import table_bits
from .records import DEFAULT_USD_RATES, Need, Product
from .text import TextVectoriser
from .textworkers import TextWorkers

# From this many rows, stage 1 reads a table's text through a 16-number summary of each row
# (TextVectoriser.fit_embedding) instead of the exact cosine: reading the full postings of the
# query's terms costs ~9 ms at 10^6 rows, the summaries of the candidate rows well under one.
EMBED_FROM = 100_000
FIELDS = ("country", "region", "sector", "technology", "instrument", "stage", "taxonomy")


def _ones(values) -> list[tuple[str, ...]]:
    return [(v,) if v else () for v in values]


def need_token_columns(needs: Sequence[Need]) -> dict[str, list[tuple[str, ...]]]:
    """Each need's value(s) per matching field, field by field."""
    return {
        "country": _ones(n.country for n in needs),
        "region": _ones(n.region for n in needs),
        "sector": _ones(n.sector for n in needs),
        "technology": _ones(n.technology for n in needs),
        "instrument": [n.instruments for n in needs],
        "stage": _ones(n.stage for n in needs),
        "taxonomy": [n.taxonomy_tags for n in needs],
    }


def product_token_columns(products: Sequence[Product]) -> dict[str, list[tuple[str, ...]]]:
    """Each product's mandate per matching field (empty means open), field by field."""
    return {
        "country": [p.countries for p in products],
        "region": [p.regions for p in products],
        "sector": [p.sector_set for p in products],
        "technology": [p.technologies for p in products],
        "instrument": [p.instrument_set for p in products],
        "stage": [p.stages for p in products],
        "taxonomy": [p.taxonomy_requirements for p in products],
    }


def _column(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def need_numbers(needs: Sequence[Need]) -> dict[str, np.ndarray]:
    """Numeric columns of needs (NaN where unknown)."""
    return {
        "amount_usd": _column(n.amount_usd for n in needs),
        "currency_ok": np.array([n.currency_known for n in needs], dtype=np.float64),
        "tenor": _column(n.tenor_years for n in needs),
        "tco2e": _column(n.expected_tco2e for n in needs),
    }


def product_numbers(products: Sequence[Product]) -> dict[str, np.ndarray]:
    """Numeric columns of products (NaN where unknown or open)."""
    return {
        "ticket_min": _column(p.ticket_min_usd for p in products),
        "ticket_max": _column(p.ticket_max_usd for p in products),
        "currency_ok": np.array([p.currency_known for p in products], dtype=np.float64),
        "tenor_min": _column(p.tenor_min for p in products),
        "tenor_max": _column(p.tenor_max for p in products),
        "min_tco2e": _column(p.min_tco2e for p in products),
    }


def row_major(columns: dict[str, np.ndarray], dtype) -> dict[str, np.ndarray]:
    """The same columns as views of one rows × columns array, so that reading a few scattered
    rows touches one cache line per row instead of one per column."""
    names = list(columns)
    block = np.empty((len(columns[names[0]]) if names else 0, len(names)), dtype=dtype)
    for j, name in enumerate(names):
        block[:, j] = columns[name]
    return {name: block[:, j] for j, name in enumerate(names)}


def _take(columns: dict[str, np.ndarray], rows) -> dict[str, np.ndarray]:
    values = list(columns.values())
    block = values[0].base if values else None
    whole = block is not None and block.ndim == 2 and block.shape[1] == len(values)
    if whole and all(v.base is block for v in values):  # views of one block: gather its rows
        if isinstance(rows, np.ndarray) and rows.ndim == 1:
            # np.take copies whole rows, several times faster than fancy indexing here; the
            # transposed copy makes each column contiguous for the comparisons that follow.
            taken = np.ascontiguousarray(np.take(block, rows, axis=0).T)
            return {name: taken[j] for j, name in enumerate(columns)}
        taken = block[rows]
        return {name: taken[..., j] for j, name in enumerate(columns)}
    return {name: v[rows] for name, v in columns.items()}


@dataclass
class Side:
    """Columns of one or many needs or products, as numpy arrays."""

    numbers: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]

    @classmethod
    def of(cls, numbers: dict[str, np.ndarray], counts: dict[str, np.ndarray]) -> Side:
        """A table's side, stored row-major (see row_major)."""
        return cls(row_major(numbers, np.float64), row_major(counts, np.uint16))

    def take(self, rows) -> Side:
        """The same columns restricted (or broadcast) by an index expression."""
        return Side(_take(self.numbers, rows), _take(self.counts, rows))


@dataclass
class Table:
    """All needs or all products of the index, column-wise."""

    records: list
    side: Side
    tokens: dict[str, sp.csr_matrix]
    text: sp.csr_matrix | None  # None only while MatchingIndex.build is filling it in
    tags: sp.csr_matrix | None = None
    embedding: np.ndarray | None = None  # rows × dims (float32) for stage 1 in a large table
    row_of: dict[Any, int] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.records)

    def cached(self, key, make: Callable[[], Any]) -> Any:
        """A structure derived from the table's columns, built on first use and kept."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def text_columns(self) -> sp.csc_matrix:
        """The TF-IDF matrix in CSC form, built once, for reading a query's columns."""
        return self.cached("text", self.text.tocsc)

    def text_dot(self, query: sp.csr_matrix) -> np.ndarray:
        """Dot product of one TF-IDF row with every row of this table, reading only its columns."""
        return self.text_columns()[:, query.indices] @ query.data

    def weights(self, row: int) -> dict[int, float]:
        """One row's TF-IDF weights by n-gram bucket (what TextVectoriser.shared_terms reads)."""
        start, end = self.text.indptr[row], self.text.indptr[row + 1]
        buckets, values = self.text.indices[start:end], self.text.data[start:end]
        return dict(zip(buckets.tolist(), values.tolist(), strict=True))

    def weights_of(self, record) -> dict[int, float] | None:
        """The weights of this very record when the table holds it (None for a new one)."""
        row = self.row_of.get(record.id)
        return self.weights(row) if row is not None and self.records[row] is record else None

    def prepare(self) -> None:
        """Build the column-major text index now rather than on the first query (a table read
        through an embedding never needs it)."""
        if self.embedding is None:
            self.text_columns()


@dataclass
class Query:
    """One need or product prepared for scoring against the other side."""

    record: Any
    side: Side
    token_ids: dict[str, np.ndarray]
    text: sp.csr_matrix
    tags: sp.csr_matrix | None = None


class Vocabulary:
    """Token → column number, per field."""

    def __init__(self):
        self.ids: dict[str, dict[str, int]] = {name: {} for name in FIELDS}

    def add_columns(self, columns: dict[str, list[tuple[str, ...]]]) -> None:
        """Give every unseen token a column, in order of first sight."""
        for name, rows in columns.items():
            known = self.ids[name]
            for value in dict.fromkeys(chain.from_iterable(rows)):
                known.setdefault(value, len(known))

    def lookup(self, name: str, values: tuple[str, ...]) -> np.ndarray:
        """Columns of the known tokens among values."""
        known = self.ids[name]
        return np.array([known[v] for v in values if v in known], dtype=np.int64)

    def matrices(self, columns: dict[str, list[tuple[str, ...]]]) -> dict[str, sp.csr_matrix]:
        """One binary row-per-record matrix per field."""
        return {name: self._matrix(name, columns[name]) for name in FIELDS}

    def _matrix(self, name: str, rows: list[tuple[str, ...]]) -> sp.csr_matrix:
        known = self.ids[name]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, rows), np.int64, len(rows)), out=indptr[1:])
        flat = chain.from_iterable(rows)
        indices = np.fromiter(map(known.__getitem__, flat), np.int32, indptr[-1])
        data = np.ones(indptr[-1], dtype=np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=(len(rows), max(len(known), 1)))


def _counts(columns: dict[str, list[tuple[str, ...]]]) -> dict[str, np.ndarray]:
    # uint16: a quarter of float64's bytes to gather for the candidate rows of every query.
    return {n: np.fromiter(map(len, columns[n]), np.uint16, len(columns[n])) for n in FIELDS}


class RecordTexts(Sequence):
    """The texts of records, made when read (the whole list of a million never exists)."""

    def __init__(self, records: Sequence):
        self.records = records

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, item):
        if isinstance(item, slice):
            return [record.text for record in self.records[item]]
        return self.records[item].text


def tag_text(need: Need) -> str:
    """The need's structured keys written as words, for matching against product prose."""
    keys = (need.sector, need.technology, *need.instruments, need.stage)
    return " ".join(k.replace("_", " ") for k in keys if k)


def _tables(needs: Sequence[Need], products: Sequence[Product]) -> tuple[Vocabulary, tuple]:
    """The need and product tables without their text: tokens, columns, bitmaps."""
    need_rows, prod_rows = need_token_columns(needs), product_token_columns(products)
    vocabulary = Vocabulary()
    for columns in (need_rows, prod_rows):
        vocabulary.add_columns(columns)
    tables = (
        Table(list(needs), Side.of(need_numbers(needs), _counts(need_rows)), {}, None),
        Table(list(products), Side.of(product_numbers(products), _counts(prod_rows)), {}, None),
    )
    for table, rows in zip(tables, (need_rows, prod_rows), strict=True):
        table.tokens = vocabulary.matrices(rows)
        table.row_of = {r.id: i for i, r in enumerate(table.records)}
        table_bits(table).prepare()
    return vocabulary, tables


class MatchingIndex:
    """Needs and products prepared for vectorised scoring in both directions."""

    def __init__(self, vocabulary, vectoriser, needs: Table, products: Table, usd_rates):
        self.vocabulary, self.vectoriser = vocabulary, vectoriser
        self.needs, self.products, self.usd_rates = needs, products, usd_rates
        self.cache: dict[Any, Any] = {}

    @classmethod
    def build(
        cls,
        needs: Sequence[Need],
        products: Sequence[Product],
        *,
        usd_rates: dict[str, float] = DEFAULT_USD_RATES,
        progress: bool = False,
        vectoriser: TextVectoriser | None = None,
        seed: int = 0,
        embed_from: int = EMBED_FROM,
    ) -> MatchingIndex:
        """Index needs and products; fits the text vectoriser unless one is given. A table of
        `embed_from` rows or more gets text summaries for stage 1 (see EMBED_FROM)."""
        with TextWorkers(max(len(needs), len(products))) as workers:
            if vectoriser is None:
                corpus = RecordTexts([*needs, *products])
                vectoriser = TextVectoriser().fit(corpus, seed=seed)
            # The text index of a large side is made in worker processes meanwhile.
            texts = [
                workers.transform_later(vectoriser, RecordTexts(records), progress=progress)
                for records in (needs, products)
            ]
            vocabulary, (need_table, product_table) = _tables(needs, products)
            need_table.tags = vectoriser.transform([tag_text(n) for n in needs])
            need_table.text, product_table.text = (rows() for rows in texts)
        for table in (need_table, product_table):
            if len(table) >= embed_from:
                if vectoriser.embedding is None:
                    vectoriser.fit_embedding(table.text, seed=seed)
                table.embedding = vectoriser.embed(table.text)
            table.prepare()
        return cls(vocabulary, vectoriser, need_table, product_table, usd_rates)

    def need_query(self, need: Need) -> Query:
        """A need (indexed or new) ready to score against every product."""
        row = self.needs.row_of.get(need.id)
        indexed = row is not None and self.needs.records[row] is need
        tokens = need_token_columns([need])
        side = Side(need_numbers([need]), _counts(tokens)).take(0)
        text = self.needs.text[row] if indexed else self.vectoriser.transform([need.text])
        tags = self.needs.tags[row] if indexed else self.vectoriser.transform([tag_text(need)])
        ids = {n: self.vocabulary.lookup(n, tokens[n][0]) for n in FIELDS}
        return Query(need, side, ids, text, tags)

    def product_query(self, product: Product) -> Query:
        """A product (indexed or new) ready to score against every need."""
        row = self.products.row_of.get(product.id)
        indexed = row is not None and self.products.records[row] is product
        tokens = product_token_columns([product])
        side = Side(product_numbers([product]), _counts(tokens)).take(0)
        text = self.products.text[row] if indexed else self.vectoriser.transform([product.text])
        ids = {n: self.vocabulary.lookup(n, tokens[n][0]) for n in FIELDS}
        return Query(product, side, ids, text)
