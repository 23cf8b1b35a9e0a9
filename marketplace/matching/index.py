"""Column store of needs and products: numbers, token sets and TF-IDF rows, ready for scoring."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from tqdm import tqdm

from .records import DEFAULT_USD_RATES, Need, Product
from .text import TextVectoriser

FIELDS = ("country", "region", "sector", "technology", "instrument", "stage", "taxonomy")
LOOKUP_FROM = 8  # query tokens from which a vocabulary lookup beats summing flag columns


def _one(value: str | None) -> tuple[str, ...]:
    return (value,) if value else ()


def need_tokens(need: Need) -> dict[str, tuple[str, ...]]:
    """The need's value(s) per matching field."""
    return {
        "country": _one(need.country),
        "region": _one(need.region),
        "sector": _one(need.sector),
        "technology": _one(need.technology),
        "instrument": need.instruments,
        "stage": _one(need.stage),
        "taxonomy": need.taxonomy_tags,
    }


def product_tokens(product: Product) -> dict[str, tuple[str, ...]]:
    """The product's mandate per matching field (empty means open)."""
    return {
        "country": product.countries,
        "region": product.regions,
        "sector": product.sector_set,
        "technology": product.technologies,
        "instrument": product.instrument_set,
        "stage": product.stages,
        "taxonomy": product.taxonomy_requirements,
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


@dataclass
class Side:
    """Columns of one or many needs or products, as numpy arrays."""

    numbers: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]

    def take(self, rows) -> Side:
        """The same columns restricted (or broadcast) by an index expression."""
        return Side(
            {k: v[rows] for k, v in self.numbers.items()},
            {k: v[rows] for k, v in self.counts.items()},
        )


@dataclass
class Table:
    """All needs or all products of the index, column-wise."""

    records: list
    side: Side
    tokens: dict[str, sp.csr_matrix]
    text: sp.csr_matrix
    tags: sp.csr_matrix | None = None
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

    def flags(self, name: str) -> np.ndarray:
        """Dense column-major booleans rows × tokens of a field, built once."""
        return self.cached(
            name, lambda: np.asfortranarray(self.tokens[name].toarray().astype(bool))
        )

    def single_tokens(self, name: str) -> np.ndarray | None:
        """Each row's only token of a field (-1 for none), or None if some row has several."""
        return self.cached(("single", name), lambda: _single_tokens(self.tokens[name]))

    def token_hits(self, name: str, ids: np.ndarray) -> np.ndarray:
        """Per row: how many of the query's tokens of a field it has."""
        if ids.size == 0:
            return np.zeros(len(self), dtype=np.uint8)
        flags = self.flags(name)
        if ids.size == 1:
            return flags[:, int(ids[0])]
        single = self.single_tokens(name)
        if single is not None and ids.size >= LOOKUP_FROM and np.unique(ids).size == ids.size:
            # At most one token per row: one lookup beats reading many columns. The extra last
            # entry is what a row without a token (-1) reads.
            wanted = np.zeros(flags.shape[1] + 1, dtype=bool)
            wanted[ids] = True
            return wanted[single]
        hits = flags[:, int(ids[0])].astype(np.uint8)
        for i in ids[1:]:
            hits += flags[:, int(i)]
        return hits

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
        """Build the column-major structures now rather than on the first query."""
        self.text_columns()
        for name in FIELDS:
            self.flags(name)
            self.single_tokens(name)


def _single_tokens(matrix: sp.csr_matrix) -> np.ndarray | None:
    """Column of each row's one entry (-1 for none), or None if a row has two or more."""
    lengths = np.diff(matrix.indptr)
    if lengths.size and lengths.max() > 1:
        return None
    codes = np.full(matrix.shape[0], -1, dtype=np.int32)
    codes[lengths > 0] = matrix.indices
    return codes


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

    def add(self, tokens: dict[str, tuple[str, ...]]) -> None:
        """Give every unseen token a column."""
        for name, values in tokens.items():
            known = self.ids[name]
            for value in values:
                known.setdefault(value, len(known))

    def lookup(self, name: str, values: tuple[str, ...]) -> np.ndarray:
        """Columns of the known tokens among values."""
        known = self.ids[name]
        return np.array([known[v] for v in values if v in known], dtype=np.int64)

    def matrices(self, token_rows: list[dict[str, tuple[str, ...]]]) -> dict[str, sp.csr_matrix]:
        """One binary row-per-record matrix per field."""
        return {name: self._matrix(name, [row[name] for row in token_rows]) for name in FIELDS}

    def _matrix(self, name: str, rows: list[tuple[str, ...]]) -> sp.csr_matrix:
        known = self.ids[name]
        indptr = np.cumsum([0] + [len(r) for r in rows])
        indices = np.fromiter((known[v] for r in rows for v in r), np.int32, indptr[-1])
        data = np.ones(indptr[-1], dtype=np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=(len(rows), max(len(known), 1)))


def _counts(token_rows: list[dict[str, tuple[str, ...]]]) -> dict[str, np.ndarray]:
    return {n: np.array([len(r[n]) for r in token_rows], dtype=np.float64) for n in FIELDS}


def tag_text(need: Need) -> str:
    """The need's structured keys written as words, for matching against product prose."""
    keys = (need.sector, need.technology, *need.instruments, need.stage)
    return " ".join(k.replace("_", " ") for k in keys if k)


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
    ) -> MatchingIndex:
        """Index needs and products; fits the text vectoriser unless one is given."""
        need_rows = [need_tokens(n) for n in tqdm(needs, desc="needs", disable=not progress)]
        prod_rows = [
            product_tokens(p) for p in tqdm(products, desc="products", disable=not progress)
        ]
        vocabulary = Vocabulary()
        for rows in (need_rows, prod_rows):
            for row in rows:
                vocabulary.add(row)
        if vectoriser is None:
            texts = [n.text for n in needs] + [p.text for p in products]
            vectoriser = TextVectoriser().fit(texts, seed=seed)
        need_table = Table(
            list(needs),
            Side(need_numbers(needs), _counts(need_rows)),
            vocabulary.matrices(need_rows),
            vectoriser.transform([n.text for n in needs], progress=progress),
            vectoriser.transform([tag_text(n) for n in needs]),
        )
        product_table = Table(
            list(products),
            Side(product_numbers(products), _counts(prod_rows)),
            vocabulary.matrices(prod_rows),
            vectoriser.transform([p.text for p in products], progress=progress),
        )
        for table in (need_table, product_table):
            table.row_of = {r.id: i for i, r in enumerate(table.records)}
            table.prepare()
        return cls(vocabulary, vectoriser, need_table, product_table, usd_rates)

    def need_query(self, need: Need) -> Query:
        """A need (indexed or new) ready to score against every product."""
        row = self.needs.row_of.get(need.id)
        indexed = row is not None and self.needs.records[row] is need
        tokens = need_tokens(need)
        side = Side(need_numbers([need]), _counts([tokens])).take(0)
        text = self.needs.text[row] if indexed else self.vectoriser.transform([need.text])
        tags = self.needs.tags[row] if indexed else self.vectoriser.transform([tag_text(need)])
        ids = {n: self.vocabulary.lookup(n, tokens[n]) for n in FIELDS}
        return Query(need, side, ids, text, tags)

    def product_query(self, product: Product) -> Query:
        """A product (indexed or new) ready to score against every need."""
        row = self.products.row_of.get(product.id)
        indexed = row is not None and self.products.records[row] is product
        tokens = product_tokens(product)
        side = Side(product_numbers([product]), _counts([tokens])).take(0)
        text = self.products.text[row] if indexed else self.vectoriser.transform([product.text])
        ids = {n: self.vocabulary.lookup(n, tokens[n]) for n in FIELDS}
        return Query(product, side, ids, text)
