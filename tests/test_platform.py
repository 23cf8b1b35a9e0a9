"""Health check, configuration, error pages, the schema and security headers."""

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from config import ProductionConfig
from marketplace import create_app
from marketplace.extensions import db
from marketplace.models import Base

ROOT = Path(__file__).resolve().parents[1]


def test_healthz_reports_database_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["database"], body["redis"]) == ("ok", "up", "not configured")
    assert body["queue"] == {
        "mode": "in-process",
        "waiting": 0,
        "oldest_waiting_s": 0,
        "failed_last_day": 0,
    }


def test_liveness_needs_nothing_but_the_process(tmp_path):
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/x",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
    )
    assert app.test_client().get("/healthz/live").get_json() == {"status": "ok"}


def test_healthz_answers_503_when_the_database_is_down(tmp_path):
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/x",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}},
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "down"


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_production_refuses_to_start_without_its_canonical_address(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "x" * 40)
    monkeypatch.setattr(ProductionConfig, "SITE_URL", None)
    with pytest.raises(RuntimeError, match="SITE_URL"):
        create_app("production")


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "x" * 40)
    monkeypatch.setattr(ProductionConfig, "SITE_URL", "https://market.example")
    monkeypatch.setattr(ProductionConfig, "RATELIMIT_STORAGE_URI", "redis://localhost:6379/0")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_migrations_match_the_models(app):
    """The Alembic head builds exactly the tables the models declare, on this database."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "migration_env_filter", Path(__file__).resolve().parent.parent / "migrations" / "env.py"
    )
    with app.app_context(), db.engine.connect() as connection:
        include_object = _include_object(spec)
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def _include_object(spec):
    """The filter from migrations/env.py (reading the file, not running it)."""
    import ast

    tree = ast.parse(Path(spec.origin).read_text())
    names = next(
        node
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "RAW_SQL_INDEXES"
    )
    raw = ast.literal_eval(names.value)
    return lambda obj, name, type_, reflected, compare_to: (
        not (type_ == "index" and reflected and name in raw)
    )


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_json_error_for_api_callers(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.get_json()["error"] == "Page not found"


def test_security_headers(client):
    headers = client.get("/").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_bootstrap_is_served_locally(client):
    page = client.get("/").get_data(as_text=True)
    assert "cdn." not in page and "/bootstrap/static/" in page


def test_timestamps_come_back_timezone_aware(app):
    from tests.factories import make_user

    user = make_user(app)
    with app.app_context():
        from marketplace.models import User

        assert db.session.get(User, user.id).created_at.tzinfo is not None


def test_a_fresh_process_can_load_a_signed_in_user_before_any_other_query():
    """A gunicorn worker's first request loads the user with its second factor (a backref):
    it must exist before anything else configured the mappers (found by bench/load.py)."""
    code = (
        "from sqlalchemy import select\n"
        "from sqlalchemy.orm import joinedload\n"
        "from marketplace.models import User\n"
        "print(select(User).options(joinedload(User.mfa_credential)) is not None)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
