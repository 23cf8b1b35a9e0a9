"""Ranker latency on one core: need → products and product → needs, against a matrix-vector floor,
and what building the index costs.

Run: python bench/ranker_latency.py [--sizes 1000,10000,100000,1000000] [--repeats 50]
Each size and direction runs in a process of its own (so one size's memory does not inflate the
next one's figures), holding only what that direction needs: 50 query records and `size` records
on the ranked side. The last line printed is one JSON object; per direction and size:
- p50_ms, p95_ms: one query, both stages, after one warm-up query;
- floor_ms: the median time of one bare numpy matrix-vector product X @ w over a size ×
  len(FEATURE_NAMES) matrix of FEATURE_DTYPE (float64): what scoring every row with any linear
  model over these features would cost, with no candidate generation at all;
- build_s: MatchingIndex.build over the records (text index, embedding, bitmaps);
- input_rss_mb: the process's resident memory before the build (Python, libraries, the model
  and the records themselves);
- peak_rss_mb: the process's peak resident memory during the build (the records included),
  measured by resetting the kernel's high-water mark (VmHWM) just before it. From 200,000 texts
  the build also runs worker processes for the text index, whose memory this does not count
  (see the matching README for a measurement);
- build_added_mb: peak_rss_mb − input_rss_mb, what the build itself added at its peak.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from marketplace.matching.features import FEATURE_DTYPE, FEATURE_NAMES  # noqa: E402
from marketplace.matching.index import MatchingIndex  # noqa: E402
from marketplace.matching.ranker import rank_needs, rank_products  # noqa: E402
from marketplace.matching.records import Need, Product  # noqa: E402
from marketplace.matching.simulate import build_index, logged_dataset  # noqa: E402
from marketplace.matching.train import decisions_from, fit_model  # noqa: E402
from marketplace.matching.world import generate  # noqa: E402

DIRECTIONS = ("need_to_products", "product_to_needs")
QUERIES = 50


def say(message: str) -> None:
    """A line for humans (progress bars go to stderr)."""
    print(message, flush=True)


def trained_model():
    """A stage-2 model trained on a small logged synthetic data set."""
    needs, products, decisions = logged_dataset(400, 300, 6000, seed=1)
    index = build_index(needs, products)
    return fit_model(index, decisions_from(index, decisions))


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds."""
    ms = np.array(samples) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
    }


def floor_ms(rows: int, repeats: int) -> float:
    """Median time of X @ w over a rows × features matrix: the least a linear scorer can cost."""
    rng = np.random.default_rng(0)
    X = rng.random((rows, len(FEATURE_NAMES)), dtype=FEATURE_DTYPE)
    w = rng.random(len(FEATURE_NAMES), dtype=FEATURE_DTYPE)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        X @ w
        samples.append(time.perf_counter() - start)
    return round(float(np.median(samples)) * 1000, 2)


def timed(fn, queries, repeats: int) -> list[float]:
    """Wall times of fn over the queries (after one warm-up call)."""
    fn(queries[0])
    samples = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(queries[i % len(queries)])
        samples.append(time.perf_counter() - start)
    return samples


def memory_mb(field: str) -> float:
    """A field of /proc/self/status (VmRSS, VmHWM) in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


def reset_peak() -> None:
    """Start VmHWM again from the current RSS (Linux: write 5 to clear_refs)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")


def records(size: int, need_is_query: bool) -> tuple[list[Need], list[Product]]:
    """QUERIES records on the query side, `size` on the ranked side, converted chunk by chunk
    so that the generator's dicts never all exist at once."""
    n_needs, n_products = (QUERIES, size) if need_is_query else (size, QUERIES)
    raw_needs, raw_products, _ = generate(n_needs, n_products, seed=size)
    needs = [Need.from_dict(n) for n in raw_needs]
    del raw_needs
    products = []
    while raw_products:
        chunk, raw_products[-100_000:] = raw_products[-100_000:], []
        products[:0] = [Product.from_dict(p) for p in chunk]
    return needs, products


def run_one(size: int, direction: str, repeats: int) -> dict:
    """Latency, floor and build figures of one size and direction (in this process)."""
    need_is_query = direction == "need_to_products"
    with threadpool_limits(limits=1):
        model = trained_model()
        needs, products = records(size, need_is_query)
        gc.collect()
        before = memory_mb("VmRSS")
        reset_peak()
        start = time.perf_counter()
        index = MatchingIndex.build(needs, products)
        build_s = time.perf_counter() - start
        peak = memory_mb("VmHWM")
        if need_is_query:
            samples = timed(lambda need: rank_products(index, need, model), needs, repeats)
        else:
            samples = timed(lambda product: rank_needs(index, product, model), products, repeats)
        index = None  # free it before the floor's matrix is made
        gc.collect()
        floor = floor_ms(size, repeats)
    return percentiles(samples) | {
        "floor_ms": floor,
        "build_s": round(build_s, 1),
        "input_rss_mb": round(before),
        "peak_rss_mb": round(peak),
        "build_added_mb": round(peak - before),
    }


def main(argv: list[str] | None = None) -> int:
    """Run every size and direction in a child process and print the JSON summary last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--directions", default=",".join(DIRECTIONS))
    parser.add_argument("--one", help=argparse.SUPPRESS)  # size:direction, in a child
    args = parser.parse_args(argv)
    if args.one:
        size, direction = args.one.split(":")
        print(json.dumps(run_one(int(size), direction, args.repeats)))
        return 0
    result: dict[str, dict] = {direction: {} for direction in DIRECTIONS}
    for size in (int(s) for s in args.sizes.split(",")):
        for direction in args.directions.split(","):
            say(f"{direction} over {size:,} records")
            child = [sys.executable, __file__, "--one", f"{size}:{direction}"]
            out = subprocess.run(
                [*child, "--repeats", str(args.repeats)], check=True, capture_output=True, text=True
            )
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            result[direction][str(size)] = figures
            say("  " + ", ".join(f"{key} {value}" for key, value in figures.items()))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
