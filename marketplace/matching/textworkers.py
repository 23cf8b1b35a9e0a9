"""Worker processes for the text index of large inputs: tokenising is Python work, so a
million texts take one core ~15 s; spread over the machine's cores while the caller builds the
rest of the index, the text index of 10^6 products is ready in about as long as the rest."""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import scipy.sparse as sp

from .text import RowBuffer, TextVectoriser

PARALLEL_FROM = 200_000  # texts from which TextWorkers transforms in worker processes
MAX_WORKERS = 4


def _part(vectoriser: TextVectoriser, texts: Sequence[str]):
    """In a worker process: one chunk's TF-IDF rows (see TextVectoriser._part)."""
    return vectoriser._part(texts)


def _started() -> bool:
    return True


class TextWorkers:
    """Worker processes that make the TF-IDF rows of large inputs, one core each (tokenising is
    Python work), while the caller goes on indexing everything else.

    Started at construction, before the vectoriser is fitted, so that their start-up (a fresh
    interpreter importing numpy and scipy) overlaps the fit; with fewer than `parallel_from`
    texts, or one core, there are none and transform_later works in this process. Chunks are
    handed over by a feeder thread at most two per worker ahead, so a chunk's texts exist only
    shortly before a worker takes them.
    """

    def __init__(self, size: int, parallel_from: int = PARALLEL_FROM):
        self.workers = min(os.cpu_count() or 1, MAX_WORKERS)
        self.parallel_from = parallel_from
        self.pool = None
        if size >= parallel_from and self.workers >= 2:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"))
            for _ in range(self.workers):  # a spawn pool starts a process per waiting task
                self.pool.submit(_started)

    def __enter__(self) -> TextWorkers:
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def transform_later(
        self,
        vectoriser: TextVectoriser,
        texts: Sequence[str],
        chunk: int = 20_000,
        progress: bool = False,
    ) -> Callable[[], sp.csr_matrix]:
        """vectoriser.transform(texts), started now: returns a function that waits for and
        returns the rows."""
        if self.pool is None or len(texts) < self.parallel_from:
            rows = vectoriser.transform(texts, chunk=chunk, progress=progress)
            return lambda: rows
        rows = RowBuffer(len(texts), vectoriser.top_terms, 1 << vectoriser.bits)
        failed: list[BaseException] = []
        ahead = threading.BoundedSemaphore(2 * self.workers)

        def feed() -> None:
            """Hand chunks out (at most two a worker ahead) and copy finished ones in order."""
            pending: deque = deque()
            try:
                for start in range(0, len(texts), chunk):
                    ahead.acquire()
                    future = self.pool.submit(_part, vectoriser, texts[start : start + chunk])
                    future.add_done_callback(lambda _: ahead.release())
                    pending.append(future)
                    while pending and pending[0].done():
                        rows.add(pending.popleft().result())
                while pending:
                    rows.add(pending.popleft().result())
            except BaseException as error:  # a worker's error, a broken pool: done() raises it
                failed.append(error)

        feeder = threading.Thread(target=feed, name="text-feeder", daemon=True)
        feeder.start()

        def done() -> sp.csr_matrix:
            feeder.join()
            if failed:
                raise failed[0]
            return rows.matrix()

        return done
