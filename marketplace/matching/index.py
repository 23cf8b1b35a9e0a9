"""Column store of needs and products: numbers, token sets and TF-IDF rows, ready for scoring."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
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
    fields = {
        "country": "countries",
        "region": "regions",
        "sector": "sector_set",
        "technology": "technologies",
        "instrument": "instrument_set",
        "stage": "stages",
        "taxonomy": "taxonomy_requirements",
    }
    return {name: list(map(attrgetter(field), products)) for name, field in fields.items()}


def _column(records: Sequence, name: str) -> np.ndarray:
    # None reads as NaN; map + attrgetter is the cheapest read of a million attributes.
    return np.array(list(map(attrgetter(name), records)), dtype=np.float64)


def _flags(records: Sequence, flag: property) -> np.ndarray:
    return np.fromiter(map(flag.fget, records), np.float64, len(records))


def need_numbers(needs: Sequence[Need]) -> dict[str, np.ndarray]:
    """Numeric columns of needs (NaN where unknown)."""
    return {
        "amount_usd": _column(needs, "amount_usd"),
        "currency_ok": _flags(needs, Need.currency_known),
        "tenor": _column(needs, "tenor_years"),
        "tco2e": _column(needs, "expected_tco2e"),
    }


def product_numbers(products: Sequence[Product]) -> dict[str, np.ndarray]:
    """Numeric columns of products (NaN where unknown or open)."""
    return {
        "ticket_min": _column(products, "ticket_min_usd"),
        "ticket_max": _column(products, "ticket_max_usd"),
        "currency_ok": _flags(products, Product.currency_known),
        "tenor_min": _column(products, "tenor_min"),
        "tenor_max": _column(products, "tenor_max"),
        "min_tco2e": _column(products, "min_tco2e"),
    }


def row_major(numbers: dict[str, np.ndarray], counts: dict[str, np.ndarray]) -> np.ndarray:
    """Every column of a side in one rows × bytes block, a row's numbers (float64) first and its
    counts (uint16) after them, padded to 8 bytes: reading a few scattered rows then costs one
    memory access per row (64 bytes, one cache line, for a product) instead of one per column."""
    size = len(next(iter(numbers.values()))) if numbers else 0
    width = -(-(8 * len(numbers) + 2 * len(counts)) // 8) * 8
    block = np.zeros((size, width), dtype=np.uint8)
    floats, ints = _split(block, len(numbers), len(counts))
    for j, column in enumerate(numbers.values()):
        floats[:, j] = column
    for j, column in enumerate(counts.values()):
        ints[:, j] = column
    return block


def _split(block: np.ndarray, n_numbers: int, n_counts: int) -> tuple[np.ndarray, np.ndarray]:
    """The float64 and uint16 parts of a row block, as rows × columns views."""
    cut = 8 * n_numbers
    return block[:, :cut].view(np.float64), block[:, cut : cut + 2 * n_counts].view(np.uint16)


@dataclass
class Side:
    """Columns of one or many needs or products, as numpy arrays."""

    numbers: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]
    block: np.ndarray | None = field(default=None, repr=False)  # see row_major

    @classmethod
    def of(cls, numbers: dict[str, np.ndarray], counts: dict[str, np.ndarray]) -> Side:
        """A table's side, stored row-major in one block (see row_major)."""
        block = row_major(numbers, counts)
        floats, ints = _split(block, len(numbers), len(counts))
        return cls(
            {name: floats[:, j] for j, name in enumerate(numbers)},
            {name: ints[:, j] for j, name in enumerate(counts)},
            block,
        )

    def take(self, rows) -> Side:
        """The same columns restricted (or broadcast) by an index expression."""
        if self.block is not None and isinstance(rows, np.ndarray) and rows.ndim == 1:
            # np.take copies whole rows, several times faster than fancy indexing here; the
            # transposed copies make each column contiguous for the comparisons that follow.
            taken = np.take(self.block, rows, axis=0)
            floats, ints = _split(taken, len(self.numbers), len(self.counts))
            floats, ints = np.ascontiguousarray(floats.T), np.ascontiguousarray(ints.T)
            numbers = dict(zip(self.numbers, floats, strict=True))
            return Side(numbers, dict(zip(self.counts, ints, strict=True)))
        return Side(
            {name: v[rows] for name, v in self.numbers.items()},
            {name: v[rows] for name, v in self.counts.items()},
        )


@dataclass
class Table:
    """All needs or all products of the index, column-wise."""

    records: list
    side: Side
    tokens: dict[str, sp.csr_matrix]
    # TF-IDF rows in the order the records were given (worker processes make them in that
    # order; permuting a million rows would double their memory): read them through text_of.
    text: sp.csr_matrix | None  # None only while MatchingIndex.build is filling it in
    tags: sp.csr_matrix | None = None  # needs only, like text
    embedding: np.ndarray | None = None  # rows × dims (float32) for stage 1 in a large table
    order: np.ndarray | None = None  # each row's position among the records given
    row_of: dict[Any, int] = field(default_factory=dict)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.records)

    def cached(self, key, make: Callable[[], Any]) -> Any:
        """A structure derived from the table's columns, built on first use and kept."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def text_of(self, rows) -> sp.csr_matrix:
        """TF-IDF rows of these rows of the table (all of them for a slice)."""
        return self.text[self.order[rows]]

    def tags_of(self, rows) -> sp.csr_matrix:
        """Tag TF-IDF rows of these rows of the (needs') table."""
        return self.tags[self.order[rows]]

    def text_columns(self) -> sp.csc_matrix:
        """The TF-IDF matrix in CSC form, built once, for reading a query's columns."""
        return self.cached("text", self.text.tocsc)

    def text_dot(self, query: sp.csr_matrix) -> np.ndarray:
        """Dot product of one TF-IDF row with every row of this table, reading only its columns."""
        return (self.text_columns()[:, query.indices] @ query.data)[self.order]

    def weights(self, row: int) -> dict[int, float]:
        """One row's TF-IDF weights by n-gram bucket (what TextVectoriser.shared_terms reads)."""
        row = self.order[row]
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

    def ranks(self, name: str) -> np.ndarray:
        """Each column's rank among the field's tokens in alphabetical order."""
        known = self.ids[name]
        rank = np.empty(len(known), dtype=np.int64)
        rank[[known[token] for token in sorted(known)]] = np.arange(len(known))
        return rank

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


# Fields whose terms a mandate's hard constraints read, most significant first (cluster_order).
CLUSTER_FIELDS = ("region", "country", "sector", "instrument", "stage")


def cluster_order(tokens: dict[str, sp.csr_matrix], vocabulary: Vocabulary) -> np.ndarray:
    """Positions of the records in the order the table stores them: by their region, country,
    sector, instrument and stage terms (each compared as a tuple of its first three terms in
    alphabetical ranks), ties in the order given, so that sorted records stay as they are.
    Records with the same terms then sit side by side: a query's candidates (prune.candidates)
    lie in long runs of neighbouring rows, and gathering their columns reads memory in order
    rather than missing the cache on every row."""
    keys = [_leading_terms(tokens[name], vocabulary.ranks(name)) for name in CLUSTER_FIELDS]
    return np.lexsort(keys[::-1])  # stable; np.lexsort sorts by its last key first


def _leading_terms(matrix: sp.csr_matrix, rank: np.ndarray, terms: int = 3) -> np.ndarray:
    """Per row, the ranks of its first `terms` tokens as digits of one number (a missing token
    is the digit 0, so a shorter tuple sorts first, as Python compares tuples)."""
    base = len(rank) + 1
    starts, lengths = matrix.indptr[:-1], np.diff(matrix.indptr)
    key = np.zeros(matrix.shape[0], dtype=np.int64)
    for j in range(terms):
        digit = np.zeros(matrix.shape[0], dtype=np.int64)
        present = np.flatnonzero(lengths > j)
        digit[present] = rank[matrix.indices[starts[present] + j]] + 1
        key = key * base + digit
    return key


def _table(records: Sequence, numbers: dict, columns: dict, vocabulary: Vocabulary) -> Table:
    """One side's table, rows in cluster order, without its text. Everything read from the
    records is read in their own order (reading a million objects in another order misses the
    cache on each), then permuted as arrays."""
    tokens = vocabulary.matrices(columns)
    order = cluster_order(tokens, vocabulary)
    tokens = {name: matrix[order] for name, matrix in tokens.items()}
    counts = {name: np.diff(matrix.indptr).astype(np.uint16) for name, matrix in tokens.items()}
    side = Side.of({name: column[order] for name, column in numbers.items()}, counts)
    table = Table(list(map(records.__getitem__, order.tolist())), side, tokens, None, order=order)
    row = np.empty_like(order)
    row[order] = np.arange(order.size)
    table.row_of = dict(zip((record.id for record in records), row.tolist(), strict=True))
    table_bits(table).prepare()
    return table


def _tables(needs: Sequence[Need], products: Sequence[Product]) -> tuple[Vocabulary, tuple]:
    """The need and product tables without their text: tokens, columns, bitmaps."""
    need_rows, prod_rows = need_token_columns(needs), product_token_columns(products)
    vocabulary = Vocabulary()
    for columns in (need_rows, prod_rows):
        vocabulary.add_columns(columns)
    tables = (
        _table(needs, need_numbers(needs), need_rows, vocabulary),
        _table(products, product_numbers(products), prod_rows, vocabulary),
    )
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
                table.embedding = vectoriser.embed(table.text)[table.order]
            table.prepare()
        return cls(vocabulary, vectoriser, need_table, product_table, usd_rates)

    def need_query(self, need: Need) -> Query:
        """A need (indexed or new) ready to score against every product."""
        row = self.needs.row_of.get(need.id)
        indexed = row is not None and self.needs.records[row] is need
        tokens = need_token_columns([need])
        side = Side(need_numbers([need]), _counts(tokens)).take(0)
        text = self.needs.text_of(row) if indexed else self.vectoriser.transform([need.text])
        tags = self.needs.tags_of(row) if indexed else self.vectoriser.transform([tag_text(need)])
        ids = {n: self.vocabulary.lookup(n, tokens[n][0]) for n in FIELDS}
        return Query(need, side, ids, text, tags)

    def product_query(self, product: Product) -> Query:
        """A product (indexed or new) ready to score against every need."""
        row = self.products.row_of.get(product.id)
        indexed = row is not None and self.products.records[row] is product
        tokens = product_token_columns([product])
        side = Side(product_numbers([product]), _counts(tokens)).take(0)
        text = self.products.text_of(row) if indexed else self.vectoriser.transform([product.text])
        ids = {n: self.vocabulary.lookup(n, tokens[n][0]) for n in FIELDS}
        return Query(product, side, ids, text)
