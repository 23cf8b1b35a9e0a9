"""`make serve`: refuses to start without a PostgreSQL DATABASE_URL, and on PostgreSQL migrates,
loads the reference data and serves the site in production mode with gunicorn.conf.py."""

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.redis_server import free_port

ROOT = Path(__file__).resolve().parents[1]


def _make_env(**settings) -> dict:
    """This process's environment for a nested make: no make flags, no database settings."""
    drop = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "DATABASE_URL", "APP_ENV", "GUNICORN_CMD_ARGS")
    return {k: v for k, v in os.environ.items() if k not in drop} | settings


@pytest.mark.parametrize(
    ("url", "reason"),
    [(None, "make serve needs DATABASE_URL"), ("sqlite:///x.db", "serves PostgreSQL only")],
    ids=["unset", "sqlite"],
)
def test_make_serve_refuses_anything_but_postgresql(url, reason):
    env = _make_env(**({"DATABASE_URL": url} if url else {}))
    done = subprocess.run(
        ["make", "--no-print-directory", "serve"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert reason in done.stderr
    assert "flask" not in done.stdout, "nothing may run before the check"


@pytest.fixture
def redis_url(redis_server):
    """The suite's throwaway redis-server (the limiter's shared store in production)."""
    return redis_server.url


def _wait_for(attempt, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while True:
        try:
            return attempt()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def empty_database(app):
    """A new database on the test PostgreSQL server, dropped afterwards."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("make serve is PostgreSQL only; the PostgreSQL run starts it for real")
    name = f"serve_{uuid.uuid4().hex[:12]}"
    admin = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield url.rsplit("/", 1)[0] + f"/{name}", admin.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _healthz(port: int) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"Host": "market.test"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
        return response.status


def test_make_serve_migrates_then_serves_in_production(empty_database, redis_url, tmp_path):
    url, plain_url = empty_database
    port = free_port()
    env = _make_env(
        DATABASE_URL=url,
        SECRET_KEY="test-only-" + "x" * 40,
        SITE_URL="https://market.test",
        RATELIMIT_STORAGE_URI=redis_url,
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        INSTANCE_DIR=str(tmp_path),
    )
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        ["make", "--no-print-directory", "serve"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # make and gunicorn in a group of their own, stopped together
    )

    def answered() -> int:
        assert server.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
        return _healthz(port)

    try:
        assert _wait_for(answered, seconds=120) == 200
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=30)
        log.close()
    with psycopg.connect(plain_url) as connection:
        assert connection.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1
        assert connection.execute("SELECT count(*) FROM countries").fetchone()[0] > 100
