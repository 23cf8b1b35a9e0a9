"""The learners stage 2 can use, and how each explains one pair's score.

`logistic`: a StandardScaler + logistic-regression head per direction, combined by harmonic
mean; a term is coef × standardised value, exactly the head's logit. `boosting`: one
HistGradientBoostingClassifier over every feature; a term is how much the logit drops when the
feature is set to its training median, everything else kept (an approximation: the terms do not
add up to the logit when features interact).
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

LEARNERS = ("logistic", "boosting")
EXPLANATION = {"logistic": "exact", "boosting": "approximate"}
BOOSTING = {
    "learning_rate": 0.1,
    "max_iter": 200,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": False,
}


def head_names(learner: str, combine: str = "harmonic") -> tuple[str, ...]:
    """Heads a learner fits: two directions for logistic (or one joint), one joint for boosting."""
    if learner == "boosting" or combine != "harmonic":
        return ("joint",)
    return ("need", "product")


def fit_head(X: np.ndarray, y: np.ndarray, learner: str, seed: int):
    """One fitted head on the columns given."""
    if learner == "boosting":
        return HistGradientBoostingClassifier(random_state=seed, **BOOSTING).fit(X, y)
    model = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
    return Pipeline([("scale", StandardScaler()), ("lr", model)]).fit(X, y)


def acceptance(head, X: np.ndarray) -> np.ndarray:
    """The head's probability of the positive class per row. A logistic head is evaluated in
    numpy (scale, dot, sigmoid: the same arithmetic as its predict_proba, without sklearn's
    per-call checks, which cost more than the arithmetic for a few hundred rows)."""
    if isinstance(head, Pipeline) and isinstance(head[-1], LogisticRegression):
        scaler, lr = head[0], head[-1]
        logit = ((X - scaler.mean_) / scaler.scale_) @ lr.coef_[0] + lr.intercept_[0]
        return 1.0 / (1.0 + np.exp(-logit))
    return head.predict_proba(X)[:, 1]


def exact_terms(head: Pipeline, x: np.ndarray) -> np.ndarray:
    """coef × standardised value per column of a logistic head (they sum to logit − intercept)."""
    scaled = head[:-1].transform(x.reshape(1, -1))[0]
    return head[-1].coef_[0] * scaled


def approximate_terms(head, x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per column: logit(x) − logit(x with that column set to its reference value)."""
    grid = np.repeat(x.reshape(1, -1), x.size + 1, axis=0)
    columns = np.arange(x.size)
    grid[columns + 1, columns] = reference
    logits = head.decision_function(grid)
    return logits[0] - logits[1:]
