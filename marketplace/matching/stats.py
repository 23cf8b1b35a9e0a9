"""Smoothed acceptance rates of products and of investors by sector, in-fold and out-of-fold."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SMOOTHING = 10.0  # pseudo-decisions at the prior rate, so one lucky accept is not a 100 % rate


@dataclass
class AcceptanceStats:
    """Accepted and decided counts keyed by product id and by (investor, sector)."""

    prior: float = 0.0
    product: dict[Any, tuple[int, int]] = field(default_factory=dict)
    investor_sector: dict[Any, tuple[int, int]] = field(default_factory=dict)

    @classmethod
    def count(cls, product_ids, investor_keys, sectors, accepted) -> AcceptanceStats:
        """Tally decisions given as aligned sequences."""
        stats = cls(prior=float(np.mean(accepted)) if len(accepted) else 0.0)
        for pid, inv, sector, ok in zip(product_ids, investor_keys, sectors, accepted, strict=True):
            _bump(stats.product, pid, ok)
            _bump(stats.investor_sector, (inv, sector), ok)
        return stats

    def rate(self, table: dict, key: Any) -> float:
        """Smoothed acceptance rate of one key."""
        accepted, decided = table.get(key, (0, 0))
        return (accepted + SMOOTHING * self.prior) / (decided + SMOOTHING)


def _bump(table: dict, key: Any, accepted) -> None:
    ok, seen = table.get(key, (0, 0))
    table[key] = (ok + int(bool(accepted)), seen + 1)


def _smoothed(accepted, decided, prior):
    return (accepted + SMOOTHING * prior) / (decided + SMOOTHING)


def out_of_fold_rates(product_code, group_code, accepted, folds) -> dict[str, np.ndarray]:
    """Each decision's rates computed only from decisions in the other folds (no leakage)."""
    accepted = np.asarray(accepted, dtype=np.float64)
    out = {
        k: np.zeros(len(accepted))
        for k in ("product_rate", "product_log_n", "investor_sector_rate")
    }
    size_p, size_g = int(product_code.max(initial=-1)) + 1, int(group_code.max(initial=-1)) + 1
    all_p = np.bincount(product_code, accepted, size_p), np.bincount(product_code, minlength=size_p)
    all_g = np.bincount(group_code, accepted, size_g), np.bincount(group_code, minlength=size_g)
    for fold in np.unique(folds):
        inside = folds == fold
        prior = accepted[~inside].mean() if (~inside).any() else 0.0
        in_p = (
            np.bincount(product_code[inside], accepted[inside], size_p),
            np.bincount(product_code[inside], minlength=size_p),
        )
        in_g = (
            np.bincount(group_code[inside], accepted[inside], size_g),
            np.bincount(group_code[inside], minlength=size_g),
        )
        p, g = product_code[inside], group_code[inside]
        acc_p, n_p = all_p[0][p] - in_p[0][p], all_p[1][p] - in_p[1][p]
        out["product_rate"][inside] = _smoothed(acc_p, n_p, prior)
        # Counted over the other folds only, a product's decisions are scaled to the whole set's
        # size: serving counts every decision, and an unscaled count would shift this feature
        # between the fit and serving (held-out predictions fell ~4 points short in mid bins).
        out["product_log_n"][inside] = np.log1p(n_p * (len(accepted) / max((~inside).sum(), 1)))
        out["investor_sector_rate"][inside] = _smoothed(
            all_g[0][g] - in_g[0][g], all_g[1][g] - in_g[1][g], prior
        )
    return out


@dataclass
class AlignedRates:
    """Acceptance rates laid out along an index, for fast lookup by row."""

    product_rate: np.ndarray
    product_log_n: np.ndarray
    investor_code: np.ndarray
    sector_codes: dict[Any, int]
    table: np.ndarray  # investor code × sector code

    def sector_code(self, sector) -> int:
        """Column of a sector (the last column stands for any unknown sector)."""
        return self.sector_codes.get(sector, len(self.sector_codes))

    def for_pairs(self, product_rows, need_sector_codes) -> dict[str, np.ndarray]:
        """Rate arrays for (product row, need sector code) pairs; inputs broadcast."""
        return {
            "product_rate": self.product_rate[product_rows],
            "product_log_n": self.product_log_n[product_rows],
            "investor_sector_rate": self.table[self.investor_code[product_rows], need_sector_codes],
        }


def align(stats: AcceptanceStats, products: Sequence, sectors: Sequence) -> AlignedRates:
    """Lay the statistics out along a product list and a sector vocabulary."""
    investors: dict[Any, int] = {}
    codes = np.array(
        [investors.setdefault(p.investor_key, len(investors)) for p in products], dtype=np.int64
    )
    sector_codes = {s: i for i, s in enumerate(sectors)}
    columns = [*sectors, None]
    table = np.array(
        [[stats.rate(stats.investor_sector, (inv, s)) for s in columns] for inv in investors]
    )
    counts = [stats.product.get(p.id, (0, 0)) for p in products]
    return AlignedRates(
        product_rate=np.array([stats.rate(stats.product, p.id) for p in products]),
        product_log_n=np.log1p(np.array([n for _, n in counts], dtype=np.float64)),
        investor_code=codes,
        sector_codes=sector_codes,
        table=table.reshape(len(investors), len(columns)),
    )
