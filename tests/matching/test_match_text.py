"""The text index: word-level counting, worker processes and the stage-1 text summaries."""

import os

import numpy as np
import pytest
import scipy.sparse as sp

from marketplace.matching.records import Need, Product
from marketplace.matching.text import TextVectoriser, _ngram_rows_cols
from marketplace.matching.textworkers import TextWorkers
from marketplace.matching.world import generate

ODD_TEXTS = [
    "",
    "   ",
    "a",
    "光伏电站 solar\tpark\n near Almaty",
    "\x00ab cd",
    "x \x01 y",  # the marker transform uses between texts, as a word of a text
    "a\x01b",
    "Wind WIND wind, wind!",
]


@pytest.fixture(scope="module")
def texts():
    needs, products, _ = generate(300, 600, seed=11)
    return (
        [Need.from_dict(n).text for n in needs]
        + [Product.from_dict(p).text for p in products]
        + ODD_TEXTS
    )


@pytest.fixture(scope="module")
def vectoriser(texts):
    return TextVectoriser().fit(texts)


def character_counts(vectoriser: TextVectoriser, texts) -> sp.csr_matrix:
    """Counts from hashing every n-gram of every whole text (what counts() used to do)."""
    rows, cols = _ngram_rows_cols(texts, vectoriser.ngram_range, vectoriser.bits)
    shape = (len(texts), 1 << vectoriser.bits)
    matrix = sp.csr_matrix((np.ones(rows.size, np.float32), (rows, cols)), shape=shape)
    matrix.sum_duplicates()
    return matrix


def test_word_level_counts_equal_character_level_counts(vectoriser, texts):
    words = vectoriser.counts(texts)
    words.sum_duplicates()
    expected = character_counts(vectoriser, texts)
    assert words.nnz == expected.nnz > 0
    assert (words != expected).nnz == 0


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="worker processes need two cores")
def test_worker_processes_give_the_same_rows(vectoriser, texts):
    here = vectoriser.transform(texts, chunk=100)
    with TextWorkers(len(texts), parallel_from=1) as workers:
        assert workers.pool is not None
        there = workers.transform_later(vectoriser, texts, chunk=100)()
    assert there.shape == here.shape
    assert abs(there - here).max() == 0


def test_summaries_approximate_the_dot_products(vectoriser, texts):
    rows = vectoriser.transform(texts)
    vectoriser.fit_embedding(rows, dims=16, seed=0)
    summaries = vectoriser.embed(rows)
    exact = (rows[:200] @ rows[200:700].T).toarray().ravel()
    approximate = (summaries[:200] @ summaries[200:700].T).ravel()
    assert np.corrcoef(exact, approximate)[0, 1] > 0.8
    assert np.allclose(vectoriser.embed_one(rows[5]), summaries[5], atol=1e-5)
