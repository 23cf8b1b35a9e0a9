"""Pure matching engine: candidates, features, two-stage ranker, training, evaluation, test data.

Imports neither Flask nor SQLAlchemy; the app converts its rows to `Need`/`Product` records.
"""

from .candidates import CONSTRAINTS, HARD, SOFT, RuleConfig
from .diagnose import diagnose_need, diagnose_product
from .evaluate import evaluate, load_records
from .features import FEATURE_NAMES
from .index import MatchingIndex
from .ranker import RankerModel, rank_needs, rank_products
from .records import DEFAULT_USD_RATES, Need, Product, region_of
from .store import IncompatibleModelError, ModelIntegrityError, load, save
from .suggest import DEFAULT_K, Suggestion, suggest_for_need, suggest_for_product
from .train import TrainResult, fit_model, should_activate, train

__all__ = [
    "CONSTRAINTS",
    "DEFAULT_K",
    "HARD",
    "SOFT",
    "diagnose_need",
    "diagnose_product",
    "DEFAULT_USD_RATES",
    "FEATURE_NAMES",
    "IncompatibleModelError",
    "MatchingIndex",
    "ModelIntegrityError",
    "Need",
    "Product",
    "RankerModel",
    "RuleConfig",
    "Suggestion",
    "TrainResult",
    "evaluate",
    "fit_model",
    "load",
    "load_records",
    "rank_needs",
    "rank_products",
    "region_of",
    "save",
    "should_activate",
    "suggest_for_need",
    "suggest_for_product",
    "train",
]
