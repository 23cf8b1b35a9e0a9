"""The ranker inside the app: stored suggestions, the CLI contract, training and versions."""

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace import jobs, matching
from marketplace.extensions import db
from marketplace.matching import synthetic
from marketplace.matching.simulate import logged_dataset
from marketplace.matching.store import read_metadata
from marketplace.models import (
    BackgroundJob,
    FinancingNeed,
    Match,
    MatchStatus,
    NeedStatus,
    RankerModel,
    Role,
    User,
)
from marketplace.services.matching import ranker, training
from tests.conftest import post_form
from tests.factories import make_match, make_need, make_product, make_user


def test_evaluate_cli_prints_the_contract(app, tmp_path):
    data = tmp_path / "small.jsonl"
    needs, products, decisions = logged_dataset(60, 30, 600, seed=3)[:3]
    synthetic.write_jsonl(data, needs, products, decisions)
    out = tmp_path / "metrics.json"
    result = app.test_cli_runner().invoke(
        args=[
            "ranker",
            "evaluate",
            "--data",
            str(data),
            "--folds",
            "3",
            "--seed",
            "1",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    assert printed == json.loads(out.read_text())
    assert printed["needs_evaluated"] > 0
    for name in ("learned", "random", "popularity", "rules", "tfidf"):
        assert set(printed[name]) >= {"ndcg@10", "recall@10", "mrr", "auc"}


def test_evaluate_cli_survives_unknown_values(app, tmp_path):
    data = tmp_path / "odd.jsonl"
    lines = [
        {"type": "need", "id": 1, "country": "ZZ", "sector": "fusion", "amount": None},
        {"type": "need", "id": 2},
        {"type": "product", "id": "p1", "currency": "XXX", "countries": None},
        {"type": "product", "id": "p2", "sectors": ["solar"]},
        {"type": "decision", "need": 1, "product": "p1", "accepted": True},
        {"type": "decision", "need": 2, "product": "p2", "accepted": False},
        {"type": "decision", "need": 2, "product": "p1", "accepted": True},
    ]
    data.write_text("\n".join(json.dumps(line) for line in lines))
    result = app.test_cli_runner().invoke(
        args=["ranker", "evaluate", "--data", str(data), "--folds", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "needs_evaluated" in json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def market(app):
    owner, investor = make_user(app, role=Role.OWNER), make_user(app, role=Role.INVESTOR)
    need = make_need(
        app,
        owner,
        status=NeedStatus.SUBMITTED,
        fee_status="waived",
        title_en="Sindh solar park",
        country_iso2="PK",
    )
    fits = make_product(
        app,
        investor,
        name_en="Pakistan solar loan",
        countries=["PK"],
        instruments=["green_loan"],
        stages=["financing"],
    )
    far = make_product(
        app,
        investor,
        name_en="Andes wind equity",
        countries=["CL"],
        sectors=["wind"],
        product_type="project_equity",
    )
    return {"owner": owner, "investor": investor, "need": need, "fits": fits, "far": far}


def test_publishing_a_need_stores_ranked_suggestions(app, market):
    broker = make_user(app, role=Role.BROKER)
    client = app.test_client()
    post_form(client, "/auth/login", {"email": broker.email, "password": "correct-horse-9"})
    post_form(client, f"/broker/needs/{market['need'].id}/publish", {}, page="/broker/needs")
    with app.app_context():
        suggested = db.session.scalars(
            select(Match).where(Match.need_id == market["need"].id).order_by(Match.rank_for_need)
        ).all()
        # The Chilean wind product breaks the mandate's country and sector: never suggested.
        assert [m.product_id for m in suggested] == [market["fits"].id]
        assert all(m.status == MatchStatus.SUGGESTED and m.explanation for m in suggested)
        assert not suggested[0].is_near_miss and suggested[0].score is None  # cold start
        summary = db.session.get(FinancingNeed, market["need"].id).match_summary
        assert (summary["good"], summary["excluded"], summary["k"]) == (1, 1, 5)
        assert summary["excluded_by"] == {"country": 1, "sector": 1}
    owner = app.test_client()
    post_form(owner, "/auth/login", {"email": market["owner"].email, "password": "correct-horse-9"})
    page = owner.get(f"/needs/{market['need'].id}").get_data(as_text=True)
    assert "Suggested products" in page and "Pakistan solar loan" in page
    assert "Andes wind equity" not in page
    assert "Country or region outside the mandate: 1 of 2" in page  # why so few


def test_suggest_cli_lists_products_with_reasons(app, market):
    with app.app_context():
        db.session.get(FinancingNeed, market["need"].id).status = NeedStatus.PUBLISHED
        db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["ranker", "suggest", "--need", str(market["need"].id)]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "cold start" in lines[0] and len(lines) == 2  # the far product is never suggested
    assert f"#{market['fits'].id} " in lines[1] and "chance —" in lines[1]
    assert "reasons: ticket_fits, country_in_mandate" in lines[1]


def _decide(app, market, count: int):
    """A few accepted and rejected decisions, as brokers would leave them."""
    owner = market["owner"]
    for i in range(count):
        need = make_need(
            app,
            owner,
            status=NeedStatus.PUBLISHED,
            title_en=f"Solar {i}",
            country_iso2="PK" if i % 2 else "CL",
        )
        make_match(
            app, need, market["fits"], MatchStatus.INTRODUCED if i % 2 else MatchStatus.REJECTED
        )
        with app.app_context():
            match = db.session.scalar(select(Match).where(Match.need_id == need.id))
            if i % 2:
                from marketplace.models import MatchEvent

                db.session.add(
                    MatchEvent(
                        match_id=match.id, from_status="suggested", to_status=MatchStatus.ACCEPTED
                    )
                )
                db.session.commit()
        make_match(app, need, market["far"], MatchStatus.REJECTED)


def test_train_saves_activates_and_detects_tampering(app, market):
    _decide(app, market, 12)
    with app.app_context():
        db.session.get(FinancingNeed, market["need"].id).status = NeedStatus.PUBLISHED
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["ranker", "train"])
    assert result.exit_code == 0, result.output
    assert "Activated;" in result.output
    with app.app_context():
        version = db.session.scalar(select(RankerModel).where(RankerModel.is_active))
        path = Path(version.file_path)
        sidecar = json.loads(path.with_suffix(".json").read_text())
        assert sidecar["sha256"] == version.sha256 and version.training_size == 24
        assert {"feature_names", "data_hash", "metrics"} <= set(sidecar) or "features" in sidecar
        # Activation re-scored the stored suggestions: one scale, the new version's chances.
        rescored = db.session.scalars(select(Match).where(Match.status == MatchStatus.SUGGESTED))
        rescored = rescored.all()
        assert rescored and all(m.ranker_version == version.version for m in rescored)
        assert all(0 <= m.score <= 1 for m in rescored)
    path.write_bytes(path.read_bytes() + b"tampered")
    broker = make_user(app, role=Role.BROKER)
    client = app.test_client()
    post_form(client, "/auth/login", {"email": broker.email, "password": "correct-horse-9"})
    with app.app_context():
        db.session.execute(RankerModel.__table__.update().values(is_active=False))
        db.session.commit()
    response = post_form(
        client,
        f"/broker/ranker/{version.id}/activate",
        {},
        page="/broker/ranker",
        follow_redirects=True,
    )
    assert "has been altered" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(RankerModel.is_active)) == 0


def test_cold_start_train_says_why(app):
    result = app.test_cli_runner().invoke(args=["ranker", "train"])
    assert result.exit_code == 0 and "cold start" in result.output


def test_ranker_page_retrains_with_the_cli_code(app, market):
    _decide(app, market, 10)
    broker = make_user(app, role=Role.BROKER)
    client = app.test_client()
    post_form(client, "/auth/login", {"email": broker.email, "password": "correct-horse-9"})
    assert "20 broker decisions" in client.get("/broker/ranker").get_data(as_text=True)
    response = post_form(client, "/broker/ranker/train", {}, page="/broker/ranker")
    assert response.status_code == 302
    assert "/broker/ranker/trainings/" in response.location
    # No queue in the tests: the job ran right after the request committed.
    job_page = client.get(response.location).get_data(as_text=True)
    assert "trained and activated" in job_page
    assert "Held-out metrics on 20 decisions" in job_page
    assert 'http-equiv="refresh"' not in job_page  # finished: the page stops refreshing
    ranker_page = client.get("/broker/ranker").get_data(as_text=True)
    assert "Baselines on the same held-out needs" in ranker_page
    assert "active</span>" in ranker_page
    assert "Retraining #" in ranker_page


def test_a_second_retraining_waits_for_the_first(app, market):
    """While a retraining is queued or running, asking again follows it instead of adding one."""
    broker = make_user(app, role=Role.BROKER)
    with app.app_context():
        job_id = training.request_training(db.session.get(User, broker.id)).id
        db.session.remove()  # committed, not handed over: it waits, as it would for a worker
    client = app.test_client()
    post_form(client, "/auth/login", {"email": broker.email, "password": "correct-horse-9"})
    response = post_form(client, "/broker/ranker/train", {}, page="/broker/ranker")
    assert response.location.endswith(f"/broker/ranker/trainings/{job_id}")
    page = client.get(response.location).get_data(as_text=True)
    assert "already under way" in page
    assert "Waiting for a worker" in page
    assert 'http-equiv="refresh"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BackgroundJob)) == 1


def test_training_pages_are_for_staff_and_only_for_trainings(app, market):
    owner = make_user(app, role=Role.OWNER)
    broker = make_user(app, role=Role.BROKER)
    with app.app_context():
        mail = jobs.enqueue(
            "mail.send", {"to": "a@b.test", "subject": "s", "body": "b", "message_id": "<x@y>"}
        )
        db.session.commit()
        mail_id = mail.id
        db.session.remove()
    client = app.test_client()
    post_form(client, "/auth/login", {"email": owner.email, "password": "correct-horse-9"})
    assert client.get(f"/broker/ranker/trainings/{mail_id}").status_code == 403
    staff = app.test_client()
    post_form(staff, "/auth/login", {"email": broker.email, "password": "correct-horse-9"})
    assert staff.get(f"/broker/ranker/trainings/{mail_id}").status_code == 404


def test_a_model_of_other_features_is_refused_and_stage_one_serves(app, market, caplog):
    _decide(app, market, 12)
    result = app.test_cli_runner().invoke(args=["ranker", "train"])
    assert "calibration sigmoid" in result.output or "calibration isotonic" in result.output
    with app.app_context():
        version = db.session.scalar(select(RankerModel).where(RankerModel.is_active))
        model = matching.load(Path(version.file_path))
        # What an engine with one feature fewer would have saved.
        model.feature_names = model.feature_names[:-1]
        path = matching.save(model, Path(version.file_path).parent, f"{version.version}-older")
        version.file_path, version.sha256 = str(path), read_metadata(path)["sha256"]
        db.session.commit()
        ranker._loaded.clear()
        app.logger.addHandler(caplog.handler)  # the app's logger does not propagate
        try:
            assert ranker.active_model() is None
        finally:
            app.logger.removeHandler(caplog.handler)
        assert "other features" in caplog.text and version.version in caplog.text
        version.is_active = False
        db.session.commit()
        version_id = version.id
    suggested = app.test_cli_runner().invoke(
        args=["ranker", "suggest", "--need", str(market["need"].id)]
    )
    assert suggested.exit_code == 0 and "cold start" in suggested.output.splitlines()[0]
    broker = make_user(app, role=Role.BROKER)
    client = app.test_client()
    post_form(client, "/auth/login", {"email": broker.email, "password": "correct-horse-9"})
    response = post_form(
        client,
        f"/broker/ranker/{version_id}/activate",
        {},
        page="/broker/ranker",
        follow_redirects=True,
    )
    assert "trained on other features" in response.get_data(as_text=True)
