"""Browser fixtures: a seeded database, a real server process on 127.0.0.1 and Debian's Chromium.

The browser tests run in the SQLite pass only; `make test` installs Chromium first when it can
(scripts/ensure-chromium.sh). Never `playwright install`: it downloads a browser we do not use.
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "artifacts" / "browser"
SETUP_COMMANDS = (["db", "upgrade"], ["reference", "load"], ["seed-demo"], ["ranker", "train"])
# The four `flask` commands in one process: importing the app (scikit-learn) takes seconds.
PREPARE = """
import json, sys, traceback
from wsgi import app
for args in json.loads(sys.argv[1]):
    print("$ flask", *args, flush=True)
    result = app.test_cli_runner().invoke(args=args)
    print(result.output, flush=True)
    if result.exit_code:
        if result.exc_info:
            traceback.print_exception(*result.exc_info)
        sys.exit("flask " + " ".join(args) + " failed")
"""
ACCEPT_LANGUAGE = {"en": "en-GB", "zh_Hans": "zh-CN"}
# Playwright's default 30 s hides a stuck page for too long; the pages answer in well under 1 s.
TIMEOUT_MS = 15_000


class LiveServer(NamedTuple):
    url: str
    log: Path


def _skip_reason() -> str | None:
    if os.environ.get("TEST_DATABASE_URL"):
        return "browser tests run in the SQLite pass only (TEST_DATABASE_URL is set)"
    if not os.access(CHROMIUM, os.X_OK):
        return (
            f"Chromium not found at {CHROMIUM}: `make test` installs it "
            "(apt-get install -y chromium)"
        )
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(instance: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("FLASK_", "DATABASE_", "STRIPE_", "MAIL_", "RATELIMIT_", "UPLOAD_DIR", "MODEL_DIR")
        )
    }
    return env | {
        "APP_ENV": "development",
        "FLASK_APP": "wsgi",
        "SECRET_KEY": secrets.token_hex(16),
        "DATABASE_URL": f"sqlite:///{instance / 'browser.db'}",
        "INSTANCE_DIR": str(instance),
        # The journeys sign in many times from one address.
        "LOGIN_LIMIT_PER_IP": "1000 per minute",
        "REGISTER_LIMIT_PER_IP": "1000 per minute",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def _prepare_database(env: dict, log: Path) -> None:
    """Migrate, load the reference data, seed the demo and train the ranker, as `make run` does."""
    with log.open("a") as out:
        done = subprocess.run(
            [sys.executable, "-c", PREPARE, json.dumps(SETUP_COMMANDS)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
    if done.returncode:
        pytest.fail(f"preparing the database failed:\n{log.read_text()[-3000:]}", pytrace=False)


def _wait_healthy(url: str, server: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with {server.returncode}; see {log}", pytrace=False)
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"no 200 from {url}/healthz within {seconds} s; see {log}", pytrace=False)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """gunicorn serving a freshly seeded SQLite database (URL and log); stopped afterwards."""
    if reason := _skip_reason():
        pytest.skip(reason)
    instance = tmp_path_factory.mktemp("browser-instance")
    env, log = _server_env(instance), instance / "server.log"
    port = _free_port()
    # Started first because it loads while the database is prepared: the app factory touches no
    # database, and nothing asks the server anything before the data is ready.
    # One worker: the login limiter and SQLite both want a single process; threads serve assets.
    with log.open("a") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "1",
                "--threads",
                "4",
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "-",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _prepare_database(env, instance / "prepare.log")
        _wait_healthy(url, server, log)
        yield LiveServer(url, log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright."""
    if reason := _skip_reason():
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe_report():
    """Every axe violation seen (any impact), written to artifacts/browser/axe-report.json."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    seen: list[dict] = []
    yield seen
    (ARTIFACTS / "axe-report.json").write_text(json.dumps(seen, indent=2, ensure_ascii=False))


@pytest.fixture
def new_page(browser, live_server, axe_report, request):
    """Open a page in a fresh browser context (own cookies) speaking `locale`.

    When the test fails, every open page is photographed as FAILED-<test>-<n>.png and the end
    of the server's log is printed.
    """
    from playwright.sync_api import expect

    from tests.browser.journey import load_axe

    expect.set_options(timeout=TIMEOUT_MS)
    contexts = []

    def open_page(locale: str = "en", width: int = 1280, height: int = 900):
        context = browser.new_context(
            base_url=live_server.url,
            locale=ACCEPT_LANGUAGE[locale],
            viewport={"width": width, "height": height},
            reduced_motion="reduce",
        )
        context.set_default_timeout(TIMEOUT_MS)
        load_axe(context)
        contexts.append(context)
        return context.new_page()

    failures_before = request.session.testsfailed
    yield open_page
    if request.session.testsfailed > failures_before:
        pages = [page for context in contexts for page in context.pages]
        for number, page in enumerate(pages):
            page.screenshot(
                path=ARTIFACTS / f"FAILED-{request.node.name}-{number}.png", full_page=True
            )
        print("".join(live_server.log.read_text().splitlines(keepends=True)[-40:]))
    for context in contexts:
        context.close()
