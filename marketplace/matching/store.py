"""Model versions on disk: a joblib file and a JSON sidecar whose checksum is checked first."""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np
import sklearn

from .features import FEATURE_NAMES
from .learners import LEARNERS
from .ranker import RankerModel


class ModelIntegrityError(Exception):
    """The model file does not match the checksum recorded when it was saved."""


class IncompatibleModelError(Exception):
    """An intact model file this version of the engine cannot use (other features or classes)."""


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sidecar_path(path: Path) -> Path:
    """Where the JSON metadata of a model file lives."""
    return Path(path).with_suffix(".json")


def save(
    model: RankerModel, directory, version: str, *, data_hash: str = "", metrics: dict | None = None
) -> Path:
    """Write `<version>.joblib` and `<version>.json` into directory; returns the joblib path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.version = version
    path = directory / f"{version}.joblib"
    joblib.dump(model, path)
    meta = {
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "features": list(model.feature_names),
        "heads": sorted(model.heads),
        "learner": model.learner,
        "calibration": model.calibrator.method if model.calibrator else None,
        "explanation_method": model.explanation_method,
        "data_hash": data_hash,
        "metrics": metrics or {},
        "sha256": sha256_of(path),
    }
    sidecar_path(path).write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
    return path


def read_metadata(path) -> dict:
    """The sidecar of a model file."""
    return json.loads(sidecar_path(Path(path)).read_text(encoding="utf-8"))


def load(path, expected_sha256: str | None = None) -> RankerModel:
    """Unpickle a model only after its bytes match the recorded (or given) SHA-256; refuse one
    trained on other features than FEATURE_NAMES (IncompatibleModelError)."""
    path = Path(path)
    expected = expected_sha256 or read_metadata(path)["sha256"]
    actual = sha256_of(path)
    if actual != expected:
        raise ModelIntegrityError(
            f"{path.name}: sha256 {actual} does not match recorded {expected}"
        )
    try:
        model = joblib.load(path)
    except (AttributeError, ImportError, TypeError, ValueError) as error:
        raise IncompatibleModelError(f"{path.name} cannot be read: {error}") from error
    if not isinstance(model, RankerModel):
        raise ModelIntegrityError(f"{path.name} does not hold a RankerModel")
    return check_compatible(model, path.name)


def check_compatible(model: RankerModel, name: str = "model") -> RankerModel:
    """The model itself, if it was trained on the features the engine computes now."""
    names = tuple(getattr(model, "feature_names", ()))
    if names != FEATURE_NAMES:
        missing = sorted(set(FEATURE_NAMES) - set(names))
        extra = sorted(set(names) - set(FEATURE_NAMES))
        raise IncompatibleModelError(
            f"{name} was trained on other features (missing {missing}, unknown {extra}): retrain"
        )
    if getattr(model, "learner", None) not in LEARNERS:
        raise IncompatibleModelError(f"{name} was saved by an older engine: retrain")
    return model
