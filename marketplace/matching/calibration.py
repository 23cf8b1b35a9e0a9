"""From a ranking score to the chance that a broker accepts: calibrators fitted on out-of-fold
scores, and how calibration is measured (Brier score, expected calibration error)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

METHODS = ("isotonic", "sigmoid")
BINS = 10
EDGE = 1e-6  # scores are clipped to [EDGE, 1 - EDGE] before the logit of the sigmoid method


def _logit(scores) -> np.ndarray:
    p = np.clip(np.asarray(scores, dtype=np.float64), EDGE, 1 - EDGE)
    return np.log(p) - np.log1p(-p)


@dataclass
class Calibrator:
    """A monotone non-decreasing map from ranking scores to probabilities in [0, 1]."""

    method: str
    isotonic: IsotonicRegression | None = None
    slope: float = 1.0  # sigmoid method: σ(slope · logit(score) + intercept), slope > 0
    intercept: float = 0.0

    def __call__(self, scores) -> np.ndarray:
        """Calibrated probabilities of scores of any shape."""
        scores = np.asarray(scores, dtype=np.float64)
        if self.isotonic is not None and scores.size:
            flat = self.isotonic.predict(scores.ravel())
            return np.clip(flat.reshape(scores.shape), 0.0, 1.0)
        return 1 / (1 + np.exp(-(self.slope * _logit(scores) + self.intercept)))


def fit_calibrator(scores, accepted, method: str) -> Calibrator:
    """Fit one method; a sigmoid that would reverse the order falls back to isotonic."""
    scores, accepted = np.asarray(scores, dtype=np.float64), np.asarray(accepted, dtype=float)
    if method == "sigmoid":
        fit = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(scores)[:, None], accepted)
        slope, intercept = float(fit.coef_[0, 0]), float(fit.intercept_[0])
        if slope > 0:
            return Calibrator("sigmoid", slope=slope, intercept=intercept)
    isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    return Calibrator("isotonic", isotonic=isotonic.fit(scores, accepted))


def choose_calibrator(scores, accepted, groups, seed: int = 0) -> Calibrator:
    """The method with the lower Brier score when fitted on half of the groups (needs) and
    scored on the other half, both ways round; refitted on everything."""
    scores, accepted = np.asarray(scores, dtype=np.float64), np.asarray(accepted, dtype=float)
    unique = np.unique(groups)
    half = np.isin(groups, np.random.default_rng(seed).permutation(unique)[: unique.size // 2])
    losses = {}
    for method in METHODS:
        loss = 0.0
        for fit_rows in (half, ~half):
            if np.unique(accepted[fit_rows]).size < 2:
                continue
            calibrated = fit_calibrator(scores[fit_rows], accepted[fit_rows], method)
            loss += brier(calibrated(scores[~fit_rows]), accepted[~fit_rows]) * (~fit_rows).sum()
        losses[method] = loss
    return fit_calibrator(scores, accepted, min(METHODS, key=losses.__getitem__))


def brier(probability, accepted) -> float:
    """Mean squared difference between predicted probability and outcome."""
    probability, accepted = np.asarray(probability), np.asarray(accepted, dtype=float)
    return float(np.mean((probability - accepted) ** 2)) if accepted.size else 0.0


def calibration_bins(probability, accepted, bins: int = BINS) -> list[dict]:
    """Per equal-width bin of predicted probability: mean predicted, observed rate, count."""
    probability, accepted = np.asarray(probability), np.asarray(accepted, dtype=float)
    which = np.clip((probability * bins).astype(int), 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    predicted = np.bincount(which, probability, minlength=bins)
    observed = np.bincount(which, accepted, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_predicted, rate = predicted / count, observed / count
    return [
        {
            "bin": [round(b / bins, 6), round((b + 1) / bins, 6)],
            "mean_predicted": float(mean_predicted[b]) if count[b] else None,
            "observed_rate": float(rate[b]) if count[b] else None,
            "count": int(count[b]),
        }
        for b in range(bins)
    ]


def expected_calibration_error(probability, accepted, bins: int = BINS) -> float:
    """Σ over bins of (share of pairs in the bin) × |mean predicted − observed rate|."""
    table = calibration_bins(probability, accepted, bins)
    total = sum(row["count"] for row in table)
    return float(
        sum(
            row["count"] / total * abs(row["mean_predicted"] - row["observed_rate"])
            for row in table
            if row["count"]
        )
        if total
        else 0.0
    )


def calibration_report(probability, accepted, bins: int = BINS) -> dict:
    """Brier score, ECE and the per-bin table of held-out decisions."""
    return {
        "brier": brier(probability, accepted),
        "ece": expected_calibration_error(probability, accepted, bins),
        "bins": calibration_bins(probability, accepted, bins),
        "decisions": int(np.asarray(accepted).size),
        "accepted_rate": float(np.mean(accepted)) if np.asarray(accepted).size else 0.0,
    }
