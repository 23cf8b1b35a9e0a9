"""Model files: round trip, sidecar metadata, and tampering detected before unpickling."""

import json

import pytest

from marketplace.matching.features import FEATURE_NAMES
from marketplace.matching.simulate import build_index, logged_dataset
from marketplace.matching.store import ModelIntegrityError, load, read_metadata, save
from marketplace.matching.train import decisions_from, fit_model


@pytest.fixture(scope="module")
def model():
    needs, products, decisions = logged_dataset(60, 40, 800, seed=5)
    index = build_index(needs, products)
    return fit_model(index, decisions_from(index, decisions))


def test_round_trip_with_metadata(tmp_path, model):
    path = save(model, tmp_path, "v1", data_hash="abc", metrics={"ndcg@10": 0.5})
    meta = read_metadata(path)
    assert meta["version"] == "v1" and meta["features"] == list(FEATURE_NAMES)
    assert meta["metrics"] == {"ndcg@10": 0.5} and meta["data_hash"] == "abc"
    assert {"created_at", "sklearn_version", "numpy_version", "python_version", "sha256"} <= set(
        meta
    )
    assert meta["created_at"].endswith("+00:00")
    assert load(path).version == "v1"


def test_tampered_file_is_refused(tmp_path, model):
    path = save(model, tmp_path, "v2")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError):
        load(path)


def test_checksum_from_the_database_wins(tmp_path, model):
    path = save(model, tmp_path, "v3")
    with pytest.raises(ModelIntegrityError):
        load(path, expected_sha256="0" * 64)
    sidecar = path.with_suffix(".json")
    meta = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps(meta | {"sha256": "f" * 64}))
    with pytest.raises(ModelIntegrityError):
        load(path)
