"""TF-IDF over hashed character n-grams (char_wb semantics), so Chinese and English both match."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import chain

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
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


def _ngram_rows_cols(
    texts: Sequence[str], ngram_range: tuple[int, int], bits: int, words: bool = False
):
    """Document and hashed-bucket index of every n-gram inside a space-padded word (`words`:
    each text is one lower-case word already)."""
    padded = [f" {w} " for w in texts] if words else [_padded(text) for text in texts]
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


_BREAK = "\x01"  # a word of its own between documents when one split cuts a whole batch


def _flat_words(texts: Sequence[str]) -> tuple[list[str], np.ndarray | None]:
    """All lower-case words of the texts in order, and each text's word count; None for the
    counts when a `_BREAK` word marks where each text ends (one split for the whole batch)."""
    joined = f" {_BREAK} ".join(texts)
    if _BREAK not in joined.replace(f" {_BREAK} ", " "):
        return joined.lower().split(), None
    split = [text.lower().split() for text in texts]  # a text holds the marker: one by one
    return list(chain.from_iterable(split)), np.fromiter(map(len, split), np.int64, len(split))


def _word_counts(texts: Sequence[str]) -> tuple[sp.csr_matrix, list[str]]:
    """Documents × distinct words (counts, float32) and the words, in order of first sight."""
    flat, lengths = _flat_words(texts)
    ids = dict.fromkeys(flat, 0)  # C-speed de-duplication keeps the order of first sight
    if lengths is None:
        ids.pop(_BREAK, None)
    words = list(ids) or [""]
    ids.update(zip(words, range(len(words)), strict=True))
    if lengths is None:
        ids[_BREAK] = -1
    columns = np.fromiter(map(ids.__getitem__, flat), np.int32, len(flat))
    if lengths is None:
        marks = np.flatnonzero(columns < 0)
        lengths = np.diff(marks, prepend=-1, append=columns.size) - 1
        columns = columns[columns >= 0]
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    data = np.ones(columns.size, dtype=np.float32)
    return sp.csr_matrix((data, columns, indptr), shape=(len(texts), len(words))), words


def top_k_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep each row's k largest weights (ties may keep a few more); changes matrix in place."""
    lengths = np.diff(matrix.indptr)
    long = np.flatnonzero(lengths > k)
    if long.size == 0:
        return matrix
    # Only the rows longer than k: a dense (rows × longest) block of their weights, padded -1.
    starts, sizes = matrix.indptr[long], lengths[long]
    owner = np.repeat(np.arange(long.size), sizes)
    where = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    positions = np.repeat(starts, sizes) + where
    dense = np.full((long.size, sizes.max()), -1.0, dtype=np.float32)
    dense[owner, where] = matrix.data[positions]
    kth = -np.partition(-dense, k - 1, axis=1)[:, k - 1]
    matrix.data[positions[matrix.data[positions] < kth[owner]]] = 0
    matrix.eliminate_zeros()
    return matrix


class RowBuffer:
    """TF-IDF rows appended part by part into arrays reserved for `per_row` weights a row
    (memory reserved but never written is not resident), so that no part outlives its copy and
    the rows are never copied again."""

    def __init__(self, count: int, per_row: int, width: int):
        self.count, self.width = count, width
        self.data = np.empty(max(count * per_row, 1), dtype=np.float32)
        self.indices = np.empty(self.data.size, dtype=np.int32)
        self.indptr = np.zeros(count + 1, dtype=np.int64)
        self.rows = 0

    def add(self, part: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        """Append the next rows (weights, buckets, row lengths)."""
        data, indices, lengths = part
        start = int(self.indptr[self.rows])
        end = start + data.size
        if end > self.data.size:  # ties kept more than per_row weights in some rows
            self.data = _grown(self.data, start, end)
            self.indices = _grown(self.indices, start, end)
        self.data[start:end] = data
        self.indices[start:end] = indices
        following = self.indptr[self.rows + 1 : self.rows + 1 + lengths.size]
        np.cumsum(lengths, out=following)
        following += start
        self.rows += lengths.size

    def matrix(self) -> sp.csr_matrix:
        """The rows added, as one CSR matrix (views of the reserved arrays)."""
        if self.rows != self.count:
            raise RuntimeError(f"{self.rows} of {self.count} text rows were made")
        end = int(self.indptr[-1])
        shape = (self.count, self.width)
        return sp.csr_matrix((self.data[:end], self.indices[:end], self.indptr), shape=shape)


def _grown(array: np.ndarray, used: int, needed: int) -> np.ndarray:
    bigger = np.empty(max(needed, array.size * 3 // 2), dtype=array.dtype)
    bigger[:used] = array[:used]
    return bigger


def _normalise_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    lengths = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    norms = np.sqrt(np.bincount(rows, matrix.data.astype(np.float64) ** 2, matrix.shape[0]))
    norms[norms == 0] = 1
    matrix.data /= np.repeat(norms, lengths).astype(matrix.data.dtype)
    return matrix


class TextVectoriser:
    """Hashed char_wb n-gram TF-IDF; each document keeps its `top_terms` heaviest n-grams."""

    def __init__(
        self,
        ngram_range=(2, 4),
        bits=20,
        top_terms=128,
        fit_sample=20_000,
        min_df=0.001,
        max_df=0.25,
    ):
        self.ngram_range, self.bits = tuple(ngram_range), bits
        self.top_terms, self.fit_sample = top_terms, fit_sample
        self.min_df, self.max_df = min_df, max_df
        self.idf = np.ones(1 << bits, dtype=np.float32)
        # (column of each n-gram bucket in basis, basis) once fit_embedding ran; see there.
        self.embedding: tuple[np.ndarray, np.ndarray] | None = None

    def counts(self, texts: Sequence[str], known_only: bool = False) -> sp.csr_matrix:
        """Raw n-gram counts per document (only n-grams with a weight if known_only).

        An n-gram never crosses a word boundary, so a document's counts are the sum of its words'
        counts: each distinct word of the batch is hashed once (documents × words) @ (words ×
        n-grams) in scipy, instead of hashing every character of every document.
        """
        documents, words = _word_counts(texts)
        rows, cols = _ngram_rows_cols(words, self.ngram_range, self.bits, words=True)
        if known_only:
            keep = self.idf[cols] > 0
            rows, cols = rows[keep], cols[keep]
        shape = (len(words), 1 << self.bits)
        grams = sp.csr_matrix((np.ones(rows.size, np.float32), (rows, cols)), shape=shape)
        return (documents @ grams).tocsr()  # no duplicates; indices unsorted

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
        rows = RowBuffer(len(texts), self.top_terms, 1 << self.bits)
        steps = range(0, len(texts), chunk)
        for start in tqdm(steps, desc="text index", unit="chunk", disable=not progress):
            rows.add(self._part(texts[start : start + chunk]))
        return rows.matrix()

    def _part(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weights, buckets and row lengths of some texts' TF-IDF rows."""
        counts = self.counts(texts, known_only=True)
        counts.data = (1 + np.log(counts.data)) * self.idf[counts.indices]
        # Which terms are a row's top k does not depend on its scale: normalise once.
        part = _normalise_rows(top_k_per_row(counts, self.top_terms))
        return part.data, part.indices, np.diff(part.indptr)

    def fit_embedding(
        self, rows: sp.csr_matrix, dims: int = 16, sample: int = 20_000, seed: int = 0
    ) -> TextVectoriser:
        """Learn a `dims`-number summary of TF-IDF rows (latent semantic analysis: a truncated
        SVD of a sample of them) in which the dot product of two summaries approximates the dot
        product of the rows. Stage 1 of a large table reads the text through it."""
        if rows.shape[0] > sample:
            pick = np.random.default_rng(seed).choice(rows.shape[0], sample, replace=False)
            rows = rows[np.sort(pick)]
        active = np.unique(rows.indices)
        column = np.full(1 << self.bits, active.size, dtype=np.int32)
        column[active] = np.arange(active.size, dtype=np.int32)
        dims = max(1, min(dims, active.size - 1, rows.shape[0] - 1))
        svd = TruncatedSVD(dims, algorithm="randomized", n_iter=4, random_state=seed)
        # The last column stands for buckets the sample lacks: empty in it, so its basis row is 0.
        svd.fit(self._columns_of(rows, column, active.size + 1))
        self.embedding = (column, svd.components_.T.astype(np.float32))
        return self

    @staticmethod
    def _columns_of(rows: sp.csr_matrix, column: np.ndarray, width: int) -> sp.csr_matrix:
        return sp.csr_matrix((rows.data, column[rows.indices], rows.indptr), (rows.shape[0], width))

    def embed_one(self, row: sp.csr_matrix) -> np.ndarray:
        """The summary (dims, float32) of one TF-IDF row."""
        column, basis = self.embedding
        return row.data.astype(np.float32) @ basis[column[row.indices]]

    def embed(self, rows: sp.csr_matrix, chunk: int = 100_000) -> np.ndarray:
        """Summaries (rows × dims, float32) of TF-IDF rows; needs fit_embedding."""
        column, basis = self.embedding
        out = np.empty((rows.shape[0], basis.shape[1]), dtype=np.float32)
        for start in range(0, rows.shape[0], chunk):
            part = rows[start : start + chunk]
            out[start : start + chunk] = self._columns_of(part, column, basis.shape[0]) @ basis
        return out

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
