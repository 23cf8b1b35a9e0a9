"""Ranking metrics over every product, with relevance = accepted decisions."""

from __future__ import annotations

import numpy as np

METRICS = ("ndcg@10", "recall@10", "mrr", "auc")
CUTOFF = 10


def per_need(scores: np.ndarray, relevant: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Metrics per row of a score matrix; relevant[b] holds the relevant columns of row b."""
    out = {name: np.zeros(len(relevant)) for name in METRICS}
    discounts = 1 / np.log2(np.arange(2, CUTOFF + 2))
    for b, cols in enumerate(relevant):
        row = scores[b]
        mine = row[cols]
        ranks = 1 + (row[None, :] > mine[:, None]).sum(axis=1)
        hit = ranks <= CUTOFF
        ideal = discounts[: min(len(cols), CUTOFF)].sum()
        out["ndcg@10"][b] = (1 / np.log2(ranks[hit] + 1)).sum() / ideal
        out["recall@10"][b] = hit.mean()
        out["mrr"][b] = 1 / ranks.min()
        others = row.size - len(cols)
        below = (row[None, :] < mine[:, None]).sum(axis=1) - (mine[None, :] < mine[:, None]).sum(
            axis=1
        )
        out["auc"][b] = below.mean() / others if others else 1.0
    return out


def summarise(values: dict[str, list[np.ndarray]]) -> dict[str, float]:
    """Mean of each metric over all needs."""
    joined = {name: np.concatenate(values[name] or [np.zeros(0)]) for name in METRICS}
    return {name: float(v.mean()) if v.size else 0.0 for name, v in joined.items()}


def bootstrap_difference(a: np.ndarray, b: np.ndarray, seed: int = 0, rounds: int = 2000) -> dict:
    """Mean of a − b over needs and its 95 % bootstrap interval (needs resampled)."""
    diff = np.asarray(a) - np.asarray(b)
    if diff.size == 0:
        return {"mean": 0.0, "ci95": [0.0, 0.0]}
    rng = np.random.default_rng(seed)
    means = np.array([diff[rng.integers(0, diff.size, diff.size)].mean() for _ in range(rounds)])
    low, high = np.percentile(means, [2.5, 97.5])
    return {"mean": float(diff.mean()), "ci95": [float(low), float(high)]}


def jitter(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Break ties at random so a coarse score is not flattered by the order of the products."""
    return scores + 1e-9 * rng.random(scores.shape)
