"""Ranker latency on one core: need → products and product → needs, against a matrix-vector floor.

Run: python bench/ranker_latency.py [--sizes 1000,10000,100000,1000000] [--repeats 50]
The last line printed is one JSON object with p50/p95/floor in milliseconds per size.
floor_ms is the median time of one bare numpy matrix-vector product X @ w over a size ×
len(FEATURE_NAMES) matrix of FEATURE_DTYPE (float64), the dtype of the engine's feature matrices:
what any linear scorer over these features must pay to score every item.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
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
    """Wall times of fn over the queries (after one warm-up call that builds caches)."""
    fn(queries[0])
    samples = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(queries[i % len(queries)])
        samples.append(time.perf_counter() - start)
    return samples


def build(needs, products, label: str) -> tuple[MatchingIndex, float]:
    """Index the records, reporting the time it took."""
    start = time.perf_counter()
    index = MatchingIndex.build(needs, products, progress=True)
    seconds = time.perf_counter() - start
    say(f"  index of {label} built in {seconds:.1f} s")
    return index, seconds


def _direction(index: MatchingIndex, rank, queries, model, repeats: int) -> list[float]:
    return timed(lambda query: rank(index, query, model), queries, repeats)


def bench_size(size: int, model, repeats: int, queries: int = 50) -> tuple[dict, dict, dict]:
    """Latency of both directions with `size` items on the ranked side."""
    say(f"size {size:,}: generating synthetic records")
    needs, products, _ = generate(size, size, seed=size)
    needs = [Need.from_dict(n) for n in needs]
    products = [Product.from_dict(p) for p in products]
    index, product_build = build(needs[:queries], products, f"{size:,} products")
    forward = _direction(index, rank_products, needs[:queries], model, repeats)
    index, need_build = build(needs, products[:queries], f"{size:,} needs")
    backward = _direction(index, rank_needs, products[:queries], model, repeats)
    del index
    floor = floor_ms(size, repeats)
    out = (percentiles(forward) | {"floor_ms": floor}, percentiles(backward) | {"floor_ms": floor})
    say(
        f"  need→products p50 {out[0]['p50_ms']} ms, p95 {out[0]['p95_ms']} ms; "
        f"product→needs p50 {out[1]['p50_ms']} ms, p95 {out[1]['p95_ms']} ms; floor {floor} ms"
    )
    return *out, {"products": round(product_build, 1), "needs": round(need_build, 1)}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the JSON summary last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)
    result: dict[str, dict] = {"need_to_products": {}, "product_to_needs": {}}
    builds = {}
    with threadpool_limits(limits=1):
        say("training a stage-2 model on a small logged data set")
        model = trained_model()
        for size in (int(s) for s in args.sizes.split(",")):
            forward, backward, builds[size] = bench_size(size, model, args.repeats)
            result["need_to_products"][str(size)] = forward
            result["product_to_needs"][str(size)] = backward
    for size, took in builds.items():
        say(f"index build at {size:,}: products {took['products']} s, needs {took['needs']} s")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
