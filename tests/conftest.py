"""Fixtures: app -> database -> client -> login_as. The same suite runs on SQLite and PostgreSQL.

TEST_DATABASE_URL (set by scripts/with-postgres.sh) selects PostgreSQL; otherwise a SQLite file in
a temporary folder. The schema is built by the Alembic migrations, so they are tested too.
"""

import os
import re

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from marketplace import create_app
from marketplace.extensions import cache, db, limiter
from marketplace.services.reference.tables import load_reference_data
from tests.redis_server import RedisServer

REFERENCE_TABLES = {"countries", "taxonomy_activities", "grid_factors", "alembic_version"}
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CSRF_META_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def pytest_report_header(config):
    url = os.environ.get("TEST_DATABASE_URL")
    return f"database: {'PostgreSQL ' + url.split('@')[-1] if url else 'SQLite (temporary file)'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """One app per run, with a migrated database and the reference data loaded."""
    base = tmp_path_factory.mktemp("instance")
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{base / 'test.db'}"
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=url,
        MAIL_OUTBOX_DIR=base / "outbox",
        UPLOAD_DIR=base / "uploads",
        MODEL_DIR=base / "models",
    )
    with app.app_context():
        _reset_schema()
        upgrade()
        load_reference_data()
    return app


def _reset_schema():
    """Start from an empty database even when TEST_DATABASE_URL was used before."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))


@pytest.fixture(autouse=True)
def clean_tables(request):
    """Empty every non-reference table after each test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
        with db.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # organisations and users refer to each other; TRUNCATE clears both at once.
                names = ", ".join(f'"{t.name}"' for t in tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(table.delete())
        cache.clear()
    limiter.reset()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page, as a browser would send it."""
    match = CSRF_RE.search(html) or CSRF_META_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def post_form(client, url: str, data: dict, *, page: str | None = None, **kwargs):
    """GET the page holding the form, then POST it with that page's CSRF token."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf_from(html)}, **kwargs)


@pytest.fixture
def login_as(client):
    """Sign a user in through the login form; returns the client."""

    def login(user_or_email, password="correct-horse-9"):
        email = getattr(user_or_email, "email", user_or_email)
        response = post_form(client, "/auth/login", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return login


@pytest.fixture(scope="session")
def redis_server():
    """A throwaway redis-server for the queue tests (Debian's `redis-server`)."""
    server = RedisServer()
    if not server.available:
        pytest.fail("redis-server is not installed (apt-get install -y redis-server)")
    server.start()
    yield server
    server.stop()
