"""Named pair features, computed for one query against everything or for many pairs at once."""

from __future__ import annotations

import threading

import numpy as np
import scipy.sparse as sp

from . import prune
from .candidates import Pair, RuleConfig, rule_parts, ticket_checks
from .index import FIELDS, MatchingIndex, Query, Table
from .text import top_k_per_row
from .track import TRACK_FEATURES

# (name, side): "need" = how the product serves the need's ask, "product" = how the need fits the
# mandate, "both" = shared. Definitions are in compute_features and README.md.
FEATURES = (
    ("currency_ok", "need"),
    ("ticket_in_range", "need"),
    ("ticket_in_tolerance", "need"),
    ("ticket_known", "need"),
    ("log_amount_to_min", "need"),
    ("log_amount_to_max", "need"),
    ("ticket_position", "need"),
    ("tenor_in_range", "need"),
    ("tenor_gap_years", "need"),
    ("instrument_match", "need"),
    ("instrument_open", "need"),
    ("need_side_fit", "need"),
    ("log10_amount_usd", "need"),
    ("country_match", "product"),
    ("region_match", "product"),
    ("geo_open", "product"),
    ("sector_match", "product"),
    ("technology_match", "product"),
    ("sector_open", "product"),
    ("stage_match", "product"),
    ("stage_open", "product"),
    ("taxonomy_share", "product"),
    ("impact_ok", "product"),
    ("log_impact_ratio", "product"),
    ("log_tco2e_per_musd", "product"),
    ("product_side_fit", "product"),
    ("missed_constraints", "both"),
    ("rule_score", "both"),
    ("text_cosine", "both"),
    ("tag_cosine", "both"),
    ("product_acceptance_oof", "both"),
    ("product_log_decisions", "both"),
    ("investor_sector_acceptance_oof", "both"),
    *((name, "both") for name in TRACK_FEATURES),
)
FEATURE_NAMES = tuple(name for name, _ in FEATURES)
FEATURE_DTYPE = np.float64  # of the matrices stage 2 scores; the latency bench floor uses it too
STAGE_ONE_TERMS = 32


def _log_ratio(a, b) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(np.clip(np.log(a / b), -3, 3))


def _ticket_position(amount, low, high) -> np.ndarray:
    """Where the amount sits in the ticket range on a log scale: 0 = minimum, 1 = maximum."""
    with np.errstate(invalid="ignore", divide="ignore"):
        position = (np.log(amount) - np.log(low)) / (np.log(high) - np.log(low))
    return np.clip(np.nan_to_num(position, nan=0.5, posinf=0.5, neginf=0.5), -1, 2)


def _need_side(pair: Pair, parts: dict, config: RuleConfig) -> dict[str, np.ndarray]:
    need, product = pair.need.numbers, pair.product.numbers
    amount, low, high = need["amount_usd"], product["ticket_min"], product["ticket_max"]
    ticket = ticket_checks(pair, config.ticket_tolerance)
    tenor = need["tenor"]
    gap = np.maximum(
        np.nan_to_num(product["tenor_min"] - tenor), np.nan_to_num(tenor - product["tenor_max"])
    )
    return {
        "currency_ok": parts["met"]["currency"],
        "ticket_in_range": ticket["exact"] & ticket["known"],
        "ticket_in_tolerance": ticket["loose"] & ticket["known"],
        "ticket_known": ticket["known"],
        "log_amount_to_min": _log_ratio(amount, low),
        "log_amount_to_max": _log_ratio(amount, high),
        "ticket_position": _ticket_position(amount, low, high),
        "tenor_in_range": parts["met"]["tenor"] & ~np.isnan(tenor),
        "tenor_gap_years": np.clip(gap, 0, 10),
        "instrument_match": pair.hits["instrument"] > 0,
        "instrument_open": pair.product.counts["instrument"] == 0,
        "need_side_fit": parts["need_side"],
        "log10_amount_usd": np.nan_to_num(np.log10(np.maximum(amount, 1.0))),
    }


def _product_side(pair: Pair, parts: dict) -> dict[str, np.ndarray]:
    need, product, counts = pair.need.numbers, pair.product.numbers, pair.product.counts
    intensity = need["tco2e"] / np.maximum(need["amount_usd"], 1.0) * 1e6
    return {
        "country_match": pair.hits["country"] > 0,
        "region_match": pair.hits["region"] > 0,
        "geo_open": (counts["country"] + counts["region"]) == 0,
        "sector_match": pair.hits["sector"] > 0,
        "technology_match": pair.hits["technology"] > 0,
        "sector_open": counts["sector"] == 0,
        "stage_match": pair.hits["stage"] > 0,
        "stage_open": counts["stage"] == 0,
        "taxonomy_share": parts["graded"]["taxonomy"],
        "impact_ok": parts["met"]["impact"],
        "log_impact_ratio": _log_ratio(need["tco2e"] + 1, product["min_tco2e"] + 1),
        "log_tco2e_per_musd": np.nan_to_num(np.log1p(np.maximum(intensity, 0))),
        "product_side_fit": parts["product_side"],
    }


def compute_features(pair: Pair, config: RuleConfig) -> tuple[np.ndarray, dict]:
    """Feature matrix (..., len(FEATURES)) for broadcast pairs, and the rule parts behind it."""
    parts = rule_parts(pair, config)
    values = {**_need_side(pair, parts, config), **_product_side(pair, parts)}
    values.update(
        {
            "missed_constraints": parts["missed"],
            "rule_score": parts["rules"],
            "text_cosine": pair.text["text"],
            "tag_cosine": pair.text["tags"],
            "product_acceptance_oof": pair.rates["product_rate"],
            "product_log_decisions": pair.rates["product_log_n"],
            "investor_sector_acceptance_oof": pair.rates["investor_sector_rate"],
        }
    )
    # Track-record features ride in `rates` too; a caller without them gets the neutral 0.
    values.update({name: pair.rates.get(name, 0.0) for name in TRACK_FEATURES})
    shape = np.broadcast_shapes(*(np.shape(v) for v in values.values()))
    matrix = np.empty((*shape, len(FEATURE_NAMES)), dtype=FEATURE_DTYPE)
    for j, name in enumerate(FEATURE_NAMES):
        matrix[..., j] = values[name]
    return matrix, parts


def stage_one_query(row: sp.csr_matrix) -> sp.csr_matrix:
    """A query's heaviest TF-IDF terms: stage 1 reads only these, stage 2 the full cosine."""
    return top_k_per_row(row.copy(), STAGE_ONE_TERMS)


_SCRATCH = threading.local()


def _dense_query(width: int) -> np.ndarray:
    """This thread's all-zero float32 vector of `width` (one per width, reused across queries)."""
    kept = getattr(_SCRATCH, "vectors", None)
    if kept is None:
        kept = _SCRATCH.vectors = {}
    if width not in kept:
        kept[width] = np.zeros(width, dtype=np.float32)
    return kept[width]


def row_dots(docs: sp.csr_matrix, query: sp.csr_matrix) -> np.ndarray:
    """Dot product of each row of docs with one sparse row (no dense or transposed copies of
    docs): the query is spread into a reused dense vector, read at the docs' buckets, then
    cleared again."""
    if docs.nnz == 0 or query.nnz == 0:
        return np.zeros(docs.shape[0])
    dense = _dense_query(query.shape[1])
    dense[query.indices] = query.data
    try:
        products = dense[docs.indices] * docs.data
    finally:
        dense[query.indices] = 0
    rows = np.repeat(np.arange(docs.shape[0]), np.diff(docs.indptr))
    return np.bincount(rows, products, minlength=docs.shape[0])


def stage_one_text(table: Table, vectoriser, text: sp.csr_matrix, rows: np.ndarray):
    """Stage-1 text score against a query's text, as a function of positions in `rows` (some
    rows of the table): the exact cosine over the query's heaviest terms, or its approximation
    through the table's embedding in a large table (see index.EMBED_FROM)."""
    query = stage_one_query(text)
    if table.embedding is not None:
        summary = vectoriser.embed_one(query)
        return lambda positions: np.take(table.embedding, rows[positions], axis=0) @ summary
    exact = table.text_dot(query)
    return lambda positions: exact[rows[positions]]


def hits_for_need(index: MatchingIndex, query: Query, rows=None) -> tuple[dict, np.ndarray]:
    """Shared tokens and stage-1 text score of one need against some products (default all)."""
    products = index.products
    rows = np.arange(len(products)) if rows is None else rows
    hits = prune.hits(products, query.token_ids, rows)
    return hits, stage_one_text(products, index.vectoriser, query.text, rows)(slice(None))


def text_for_need(index: MatchingIndex, query: Query, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Full text and tag cosines of one need with some products."""
    docs = index.products.text_of(rows)
    return {"text": row_dots(docs, query.text), "tags": row_dots(docs, query.tags)}


def hits_for_product(index: MatchingIndex, query: Query, rows=None) -> tuple[dict, np.ndarray]:
    """Shared tokens and stage-1 text score of one product against some needs (default all)."""
    needs = index.needs
    rows = np.arange(len(needs)) if rows is None else rows
    hits = prune.hits(needs, query.token_ids, rows)
    return hits, stage_one_text(needs, index.vectoriser, query.text, rows)(slice(None))


def text_for_product(index: MatchingIndex, query: Query, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Full text and tag cosines of one product with some needs."""
    needs = index.needs
    return {
        "text": row_dots(needs.text_of(rows), query.text),
        "tags": row_dots(needs.tags_of(rows), query.text),
    }


def _rowwise(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    return np.asarray(a.multiply(b).sum(axis=1), dtype=np.float64).ravel()


def hits_for_pairs(index: MatchingIndex, need_rows, product_rows) -> tuple[dict, dict]:
    """Shared tokens and text cosines of aligned (need row, product row) pairs."""
    needs, products = index.needs, index.products
    hits = {
        n: _rowwise(needs.tokens[n][need_rows], products.tokens[n][product_rows]) for n in FIELDS
    }
    text_rows = products.text_of(product_rows)
    text = {
        "text": _rowwise(needs.text_of(need_rows), text_rows),
        "tags": _rowwise(needs.tags_of(need_rows), text_rows),
    }
    return hits, text


def _dense_dot(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    return np.asarray((a @ b.T).toarray(), dtype=np.float64)


def hits_for_grid(index: MatchingIndex, need_rows) -> tuple[dict, dict]:
    """Shared tokens and text cosines of some needs (rows) against every product (columns)."""
    needs, products = index.needs, index.products
    hits = {n: _dense_dot(needs.tokens[n][need_rows], products.tokens[n]) for n in FIELDS}
    docs, need_text = products.text_of(slice(None)), needs.text_of(need_rows)
    text = {
        "text": _dense_dot(need_text, docs),
        "tags": _dense_dot(needs.tags_of(need_rows), docs),
        "stage1": _dense_dot(top_k_per_row(need_text, STAGE_ONE_TERMS), docs),
    }
    return hits, text
