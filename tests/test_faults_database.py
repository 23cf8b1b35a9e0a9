"""PostgreSQL going away under a running app: a friendly 503, nothing half-written, and the same
app (no restart) serving again once the server is back. Uses its own throwaway PostgreSQL server,
never the suite's, because it stops it."""

import re

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from bench.stack import PGBIN, Postgres
from marketplace import create_app
from marketplace.extensions import db
from marketplace.models import AuditLog, FinancingNeed, Role
from marketplace.services.reference.tables import load_reference_data
from tests.conftest import csrf_from, post_form
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.skipif(
    not (PGBIN / "initdb").exists(), reason=f"PostgreSQL 15 server binaries not in {PGBIN}"
)

NEED = {
    "title_en": "Solar park that must not be half-written",
    "title_zh": "",
    "summary_en": "Utility-scale PV.",
    "summary_zh": "",
    "description": "",
    "country_iso2": "PK",
    "sector": "solar",
    "technology": "solar_pv",
    "taxonomy_activity_ref": "4.1",
    "amount": "1000000",
    "currency": "USD",
    "instruments": ["green_loan"],
    "tenor_years": "10",
    "stage": "financing",
    "capacity": "10",
    "capacity_unit": "MW",
    "owner_capacity_factor": "",
    "owner_tco2e_per_year": "",
}
UNAVAILABLE = {
    "en": "The site cannot reach its database just now",
    "zh-CN": "网站暂时无法连接数据库",
    "zh-TW": "網站暫時無法連線資料庫",
}


@pytest.fixture(scope="module")
def stoppable(tmp_path_factory):
    """(app, server): an app on its own PostgreSQL server, which this module stops and starts."""
    base = tmp_path_factory.mktemp("own-pg")
    with Postgres(database="gsr_faults") as server:
        app = create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=server.url,
            MAIL_OUTBOX_DIR=base / "outbox",
            UPLOAD_DIR=base / "uploads",
            MODEL_DIR=base / "models",
        )
        with app.app_context():
            upgrade()
            load_reference_data()
        yield app, server
        with app.app_context():
            db.engine.dispose()


def need_rows(app, title: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(FinancingNeed).where(FinancingNeed.title_en == title)
        )


def test_a_stopped_database_is_a_friendly_503_and_the_same_app_recovers(stoppable):
    app, server = stoppable
    owner = make_user(app, role=Role.OWNER, locale="zh_Hans")
    client = app.test_client()
    post_form(client, "/auth/login", {"email": owner.email, "password": PASSWORD})
    assert client.get("/owner/").status_code == 200
    token = csrf_from(client.get("/owner/needs/new").get_data(as_text=True))
    with app.app_context():
        audit_before = db.session.scalar(select(func.count()).select_from(AuditLog))

    server.stop()
    try:
        # The owner's own language wins over the browser's, as on every other page.
        page = client.get("/owner/", headers={"Accept-Language": "en"})
        assert page.status_code == 503 and page.headers["Retry-After"] == "5"
        assert UNAVAILABLE["zh-CN"] in page.get_data(as_text=True)
        saved = client.post("/owner/needs/new", data={**NEED, "csrf_token": token})
        assert saved.status_code == 503 and "请先确认是否已保存" in saved.get_data(as_text=True)
        api = client.get("/owner/", headers={"Accept": "application/json"})
        assert api.status_code == 503 and api.mimetype == "application/problem+json"
        assert api.json["status"] == 503 and api.json["title"] == "暂时无法使用"
    finally:
        server.start()

    assert need_rows(app, NEED["title_en"]) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditLog)) == audit_before
    # The same app object, never restarted: the pool checks its connections and reconnects.
    assert client.get("/owner/").status_code == 200
    saved = client.post("/owner/needs/new", data={**NEED, "csrf_token": token})
    assert saved.status_code == 302 and re.search(r"/needs/\d+", saved.headers["Location"])
    assert need_rows(app, NEED["title_en"]) == 1


def test_a_visitor_reads_it_in_the_browsers_language(stoppable):
    app, server = stoppable
    client = app.test_client()
    assert client.get("/needs").status_code == 200
    server.stop()
    try:
        pages = {
            language: client.get("/needs", headers={"Accept-Language": language})
            for language in UNAVAILABLE
        }
    finally:
        server.start()
    for language, text in UNAVAILABLE.items():
        assert pages[language].status_code == 503
        assert text in pages[language].get_data(as_text=True)
    assert client.get("/needs").status_code == 200
