"""Production serving: gunicorn.conf.py's settings, its JSON access log from a real gunicorn, the
database pool per process, and `make serve` (refusals everywhere; a real start on PostgreSQL)."""

import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy
from gunicorn.config import Config as GunicornConfig
from sqlalchemy import text

from config import engine_options
from marketplace import create_app
from marketplace.extensions import db

ROOT = Path(__file__).resolve().parents[1]
SERVING_VARIABLES = (
    "BIND",
    "PORT",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_MAX_REQUESTS",
    "GUNICORN_MAX_REQUESTS_JITTER",
)


def gunicorn_settings(monkeypatch, **environ) -> GunicornConfig:
    """gunicorn.conf.py read with this environment, through gunicorn's own validators."""
    for name in SERVING_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    values = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    settings = GunicornConfig()
    for name, value in values.items():
        if name in settings.settings:
            settings.set(name, value)
    return settings


def test_gunicorn_defaults_suit_one_machine_behind_a_local_proxy(monkeypatch):
    settings = gunicorn_settings(monkeypatch)
    cores = len(os.sched_getaffinity(0))
    assert settings.bind == ["127.0.0.1:8000"]
    assert settings.workers == min(2 * cores + 1, 8)
    assert settings.threads == 4 and settings.worker_class_str == "gthread"
    assert settings.preload_app
    assert 0 < settings.max_requests_jitter < settings.max_requests
    assert settings.graceful_timeout <= settings.timeout
    # Proxy headers are the app's business alone (ProxyFix, PROXY_COUNT).
    assert settings.forwarded_allow_ips == [] and settings.secure_scheme_headers == {}


def test_gunicorn_takes_its_numbers_from_the_environment(monkeypatch):
    settings = gunicorn_settings(
        monkeypatch, WEB_CONCURRENCY="3", GUNICORN_THREADS="8", PORT="9000"
    )
    assert (settings.workers, settings.threads, settings.bind) == (3, 8, ["0.0.0.0:9000"])
    settings = gunicorn_settings(monkeypatch, PORT="9000", BIND="10.0.0.5:80,127.0.0.1:81")
    assert settings.bind == ["10.0.0.5:80", "127.0.0.1:81"]
    assert gunicorn_settings(monkeypatch, GUNICORN_MAX_REQUESTS="0").max_requests == 0


def test_a_malformed_number_stops_gunicorn_naming_the_variable(monkeypatch):
    with pytest.raises(RuntimeError, match="WEB_CONCURRENCY must be a whole number"):
        gunicorn_settings(monkeypatch, WEB_CONCURRENCY="four")


def test_e_mailed_tokens_never_reach_the_access_log(app):
    redact = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["redact_path"]
    routes = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    assert routes, "the sign-up and reset links carry a token in their path"
    with app.test_request_context():
        for rule in routes:
            path = rule.build({"token": "s3cret-t0ken"}, append_unknown=False)[1]
            assert "s3cret-t0ken" not in redact(path), rule.rule
    assert redact("/needs/12") == "/needs/12"


def test_post_fork_gives_the_worker_a_pool_of_its_own(tmp_path):
    """A connection the master opened is never handed to a worker (preload_app)."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fork.db'}")
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        inherited = db.engine.pool
        assert inherited.checkedin() == 1
    post_fork = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["post_fork"]
    server = SimpleNamespace(cfg=SimpleNamespace(preload_app=True))
    post_fork(server, SimpleNamespace(app=SimpleNamespace(wsgi=lambda: app)))
    with app.app_context():
        assert db.engine.pool is not inherited and db.engine.pool.checkedin() == 0
        assert db.session.scalar(text("SELECT 1")) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else "exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"nothing listened on {port} within {seconds} s")


def _get(url: str, **headers) -> int:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _stop(process: subprocess.Popen) -> tuple[str, str]:
    """Quick shutdown (SIGINT): every log line is already written, nothing is in flight."""
    process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def _server_env(tmp_path: Path, **extra) -> dict:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "GUNICORN_"))}
    return keep | {
        "APP_ENV": "development",
        "SECRET_KEY": "test-only-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "INSTANCE_DIR": str(tmp_path),
        "SITE_URL": "http://market.test",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "2",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def test_gunicorn_writes_one_json_object_per_request(tmp_path):
    """gunicorn -c gunicorn.conf.py: JSON lines on stdout, one per request; stderr is JSON too;
    the client address is the one the app trusts (PROXY_COUNT=1); the container health check
    passes against it."""
    port = _free_port()
    # One worker: its answer proves it is past start-up, so the quick stop below reaches it (a
    # signal in a worker's first milliseconds is lost, and gunicorn waits graceful_timeout).
    env = _server_env(
        tmp_path, BIND=f"127.0.0.1:{port}", PROXY_COUNT="1", PORT=str(port), WEB_CONCURRENCY="1"
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_port(port, server)
        base = f"http://127.0.0.1:{port}"
        ok = _get(
            f"{base}/healthz",
            Host="market.test",
            **{"User-Agent": "probe/1", "X-Forwarded-For": "203.0.113.7", "X-Request-ID": "req-42"},
        )
        missing = _get(f"{base}/no-such-page", Host="market.test")
        check = subprocess.run([sys.executable, "deploy/healthcheck.py"], cwd=ROOT, env=env)
    finally:
        stdout, stderr = _stop(server)
    assert (ok, missing, check.returncode) == (200, 404, 0)
    entries = [json.loads(line) for line in stdout.splitlines()]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", "/healthz", 200),
        ("GET", "/no-such-page", 404),
        ("GET", "/healthz", 200),
    ]
    first = entries[0]
    assert first["remote_addr"] == "203.0.113.7" and first["request_id"] == "req-42"
    assert first["user_agent"] == "probe/1" and first["bytes"] > 0 and first["duration_ms"] > 0
    assert first["ts"].endswith("+00:00") and "T" in first["ts"]
    assert entries[1]["remote_addr"] == "127.0.0.1" and entries[1]["request_id"] is None
    messages = [json.loads(line)["msg"] for line in stderr.splitlines()]
    assert any(m.startswith("Listening at") for m in messages)


def test_the_health_check_fails_when_nothing_answers(tmp_path):
    env = _server_env(tmp_path, PORT=str(_free_port()))
    done = subprocess.run(
        [sys.executable, "deploy/healthcheck.py"], cwd=ROOT, env=env, capture_output=True
    )
    assert done.returncode == 1


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///{tmp}/file.db"], ids=["memory", "file"])
def test_sqlite_keeps_its_own_pool_and_serves(tmp_path, url):
    url = url.format(tmp=tmp_path)
    assert engine_options(url, {"DB_POOL_SIZE": "3"}) == {"pool_pre_ping": True}
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS=engine_options(url)
    )
    assert app.test_client().get("/healthz").status_code == 200


def test_postgresql_pool_follows_the_threads_unless_sized():
    url = "postgresql+psycopg://db/marketplace"
    assert engine_options(url, {})["pool_size"] == 4
    assert engine_options(url, {"GUNICORN_THREADS": "8"})["pool_size"] == 8
    options = engine_options(url, {"GUNICORN_THREADS": "8", "DB_POOL_SIZE": "3"})
    assert options["pool_size"] == 3 and options["pool_pre_ping"]


def test_a_full_postgresql_pool_makes_a_request_wait_then_fail(app):
    """pool_size + max_overflow is a hard ceiling per process: docs/deploy.md's arithmetic."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("pool sizes apply to PostgreSQL; the SQLite run checks SQLite's own pool")
    limits = {"DB_POOL_SIZE": "1", "DB_MAX_OVERFLOW": "0", "DB_POOL_TIMEOUT": "1"}
    engine = sqlalchemy.create_engine(url, **engine_options(url, limits))
    try:
        with engine.connect() as held:
            held.execute(text("SELECT 1"))
            with pytest.raises(sqlalchemy.exc.TimeoutError):
                engine.connect()
        with engine.connect() as again:
            assert again.scalar(text("SELECT 1")) == 1
    finally:
        engine.dispose()
