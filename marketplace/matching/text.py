"""TF-IDF over hashed character n-grams (char_wb semantics), so Chinese and English both match."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from tqdm import tqdm

_MIX = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(1000003)
_WORD = re.compile(r"[^\W\d_]{3,}|[\u3400-\u9fff]{2,}")
_CJK = re.compile(r"[\u3400-\u9fff]")
_STOPWORDS = frozenset(
    {"the", "and", "for", "with", "from", "this", "that", "into", "our", "its", "are", "was"}
    | {"will", "per", "has", "have", "all", "any", "of", "to", "in", "also", "near", "other"}
    # Domain words every listing uses: sharing them says nothing about a pair.
    | {"project", "projects", "green", "finance", "financing", "financed", "funding", "fund"}
    | {"environmental", "social", "assessment", "impact", "sustainable", "sustainability"}
    | {"development", "developer", "sponsor", "investment", "investor", "investors", "loan"}
    | {"loans", "capital", "company", "provides", "preferred", "seeks", "raising", "requires"}
    | {"focused", "assets", "long", "term", "million", "total", "new", "based", "support"}
)
# The same for Chinese, as the character pairs `words` makes (项目 "project", 绿色 "green", …).
_STOP_PAIRS = frozenset(
    {"项目", "绿色", "融资", "环境", "评估", "社会", "影响", "投资", "资金", "开发", "建设", "发展"}
    | {
        "寻求",
        "位于",
        "属于",
        "领域",
        "支持",
        "公司",
        "贷款",
        "可持",
        "持续",
        "该项",
        "目位",
        "于该",
    }
)


def _padded(text: str) -> str:
    return " " + " ".join(text.lower().split()) + " "


def _ngram_rows_cols(texts: Sequence[str], ngram_range: tuple[int, int], bits: int):
    """Document and hashed-bucket index of every n-gram inside a space-padded word."""
    padded = [_padded(text) for text in texts]
    big = "\x00".join(padded) + "\x00"
    codes = np.frombuffer(big.encode("utf-32-le"), dtype=np.uint32)
    doc = np.repeat(np.arange(len(texts), dtype=np.int32), [len(p) + 1 for p in padded])
    space, sep = codes == 32, codes == 0
    breaks = np.concatenate(([0], np.cumsum(space | sep)))
    h = codes.astype(np.uint64)
    rows, cols = [], []
    for n in range(1, ngram_range[1] + 1):
        if n > 1:
            # Rolling hash: the n-gram at i extends the (n-1)-gram at i by one character.
            h = h[:-1] * _PRIME ^ codes[n - 1 :]
        m = h.size
        if n < ngram_range[0] or m <= 0:
            continue
        # A word's n-gram has spaces only at its ends, as sklearn's char_wb analyzer makes them.
        inside = breaks[n - 1 : n - 1 + m] - breaks[1 : 1 + m] == 0
        ends = ~sep[:m] & ~sep[n - 1 : n - 1 + m] & ~(space[:m] & space[n - 1 : n - 1 + m])
        keep = np.flatnonzero(inside & ends)
        mixed = (h[keep] + np.uint64(n)) * _MIX
        cols.append((mixed >> np.uint64(64 - bits)).astype(np.int32))
        rows.append(doc[keep])
    return np.concatenate(rows or [[]]).astype(np.int32), np.concatenate(cols or [[]]).astype(
        np.int32
    )


def top_k_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep each row's k largest weights (ties may keep a few more); changes matrix in place."""
    lengths = np.diff(matrix.indptr)
    if lengths.size == 0 or lengths.max() <= k:
        return matrix
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    dense = np.full((matrix.shape[0], lengths.max()), -1.0, dtype=np.float32)
    dense[rows, np.arange(matrix.nnz) - np.repeat(matrix.indptr[:-1], lengths)] = matrix.data
    kth = -np.partition(-dense, k - 1, axis=1)[:, k - 1]
    matrix.data[matrix.data < kth[rows]] = 0
    matrix.eliminate_zeros()
    return matrix


def _normalise_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    matrix.data /= np.repeat(norms, np.diff(matrix.indptr)).astype(matrix.data.dtype)
    return matrix


class TextVectoriser:
    """Hashed char_wb n-gram TF-IDF; each document keeps its `top_terms` heaviest n-grams."""

    def __init__(
        self,
        ngram_range=(2, 4),
        bits=20,
        top_terms=128,
        fit_sample=100_000,
        min_df=0.001,
        max_df=0.25,
    ):
        self.ngram_range, self.bits = tuple(ngram_range), bits
        self.top_terms, self.fit_sample = top_terms, fit_sample
        self.min_df, self.max_df = min_df, max_df
        self.idf = np.ones(1 << bits, dtype=np.float32)

    def counts(self, texts: Sequence[str], known_only: bool = False) -> sp.csr_matrix:
        """Raw n-gram counts per document (only n-grams with a weight if known_only)."""
        rows, cols = _ngram_rows_cols(texts, self.ngram_range, self.bits)
        if known_only:
            keep = self.idf[cols] > 0
            rows, cols = rows[keep], cols[keep]
        shape = (len(texts), 1 << self.bits)
        matrix = sp.csr_matrix((np.ones(rows.size, np.float32), (rows, cols)), shape=shape)
        matrix.sum_duplicates()
        return matrix

    def fit(self, texts: Sequence[str], seed: int = 0) -> TextVectoriser:
        """Learn smoothed inverse document frequencies from (a sample of) the texts."""
        if len(texts) > self.fit_sample:
            pick = np.random.default_rng(seed).choice(len(texts), self.fit_sample, replace=False)
            texts = [texts[i] for i in np.sort(pick)]
        df = np.zeros(1 << self.bits, dtype=np.float64)
        for start in range(0, len(texts), 20_000):
            df += np.bincount(self.counts(texts[start : start + 20_000]).indices, minlength=df.size)
        idf = np.log((1 + len(texts)) / (1 + df)) + 1
        # Unique n-grams (names, numbers) match nothing and common ones say little; both would
        # otherwise crowd the distinctive n-grams out of each document's top terms.
        rare, common = df < max(2, self.min_df * len(texts)), df > max(20, self.max_df * len(texts))
        idf[rare | common] = 0
        self.idf = idf.astype(np.float32)
        self.__dict__.pop("_memos", None)  # remembered rows were weighted by the old idf
        return self

    def transform(self, texts: Sequence[str], progress: bool = False, chunk: int = 20_000):
        """L2-normalised, top-k-pruned TF-IDF rows (CSR, float32)."""
        parts = []
        steps = range(0, len(texts), chunk)
        for start in tqdm(steps, desc="text index", unit="chunk", disable=not progress):
            counts = self.counts(texts[start : start + chunk], known_only=True)
            counts.data = (1 + np.log(counts.data)) * self.idf[counts.indices]
            parts.append(_normalise_rows(top_k_per_row(_normalise_rows(counts), self.top_terms)))
        if not parts:
            return sp.csr_matrix((0, 1 << self.bits), dtype=np.float32)
        return sp.vstack(parts, format="csr")

    def word_weights(self, word: str, row: sp.csr_matrix) -> float:
        """How much a word's n-grams weigh in one TF-IDF row."""
        weights = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
        return self._weight_of(word, weights)

    def shared_terms(self, text_a: str, text_b: str, limit: int = 5, weights=(None, None)):
        """Words (or Chinese character pairs) in both texts, weightiest in the similarity first.

        `weights`: the texts' TF-IDF weights by bucket when known (an index row), else None.
        """
        shared = sorted(words(text_a) & words(text_b))
        if not shared:
            return []
        weights_a = self._row_weights(text_a) if weights[0] is None else weights[0]
        weights_b = self._row_weights(text_b) if weights[1] is None else weights[1]
        score = {w: self._weight_of(w, weights_a) * self._weight_of(w, weights_b) for w in shared}
        idf = {w: float(self.idf[self._buckets(w)].mean()) for w in shared}
        return sorted(shared, key=lambda w: (-score[w], -idf[w], w))[:limit]

    # Explanations ask about the same words and texts again and again (a need's text against
    # each of its ten products): both are remembered, up to MEMO_SIZE of each.
    MEMO_SIZE = 20_000

    def _memo(self, name: str) -> dict:
        memo = self.__dict__.setdefault("_memos", {}).setdefault(name, {})
        if len(memo) > self.MEMO_SIZE:
            memo.clear()
        return memo

    def _buckets(self, word: str) -> np.ndarray:
        memo = self._memo("buckets")
        if word not in memo:
            memo[word] = self.counts([word]).indices
        return memo[word]

    def _row_weights(self, text: str) -> dict[int, float]:
        memo = self._memo("rows")
        if text not in memo:
            row = self.transform([text])
            memo[text] = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
        return memo[text]

    def _weight_of(self, word: str, weights: dict[int, float]) -> float:
        return sum(weights.get(int(b), 0.0) for b in self._buckets(word))

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_memos"}


def words(text: str) -> set[str]:
    """Lower-case words of three letters or more, and Chinese character pairs, without the
    stop words of English and of the domain."""
    found = set()
    for token in _WORD.findall(text.lower()):
        if _CJK.match(token):
            pairs = (token[i : i + 2] for i in range(len(token) - 1))
            found.update(pair for pair in pairs if pair not in _STOP_PAIRS)
        elif token not in _STOPWORDS:
            found.add(token)
    return found
