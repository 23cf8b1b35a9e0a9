"""Redis (the limiter's shared store) stopped under a running app: pages keep serving, sign-in
limits keep refusing (counted in this process meanwhile), and counting returns to Redis once it
is back. Uses its own throwaway redis-server, which it stops and starts."""

import time

import pytest
import redis as redis_client

from marketplace import create_app
from marketplace.extensions import limiter
from tests.conftest import post_form
from tests.factories import PASSWORD, make_user
from tests.redis_server import RedisServer

pytestmark = pytest.mark.skipif(
    not RedisServer().available, reason="redis-server not found (apt-get install redis-server)"
)
PER_ADDRESS = 8
FREE_FAILURES = 3


@pytest.fixture
def redis_app(app):
    """An app on the suite's database whose limiter and sign-in counters live in its own Redis."""
    server = RedisServer()
    server.start()
    try:
        limited = create_app(
            "testing",
            SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
            RATELIMIT_STORAGE_URI=server.url,
            LOGIN_LIMIT_PER_IP=f"{PER_ADDRESS} per 10 minutes",
            LOGIN_FREE_FAILURES=FREE_FAILURES,
        )
        yield limited, server
    finally:
        server.stop()
        limiter.init_app(app)  # the limiter is one object: give it back its memory storage


def sign_in(client, address: str, email: str, password: str):
    form = {"email": email, "password": password}
    return post_form(client, "/auth/login", form, environ_base={"REMOTE_ADDR": address})


def keys_in(server: RedisServer, pattern: str) -> list[bytes]:
    return redis_client.Redis.from_url(server.url).keys(pattern)


def test_with_redis_stopped_pages_serve_limits_refuse_and_counting_returns(redis_app):
    app, server = redis_app
    user, other = make_user(app), make_user(app)
    client = app.test_client()
    sign_in(client, "203.0.113.20", other.email, "guess-guess-guess")
    assert keys_in(server, "*LIMITER*") and keys_in(server, "*signin/failures*")

    server.stop()
    for page in ("/", "/needs", "/auth/login"):
        assert client.get(page).status_code == 200
    # The back-off per (account, address): after the free failures, even the right password waits.
    for _ in range(FREE_FAILURES + 1):
        assert sign_in(client, "203.0.113.21", user.email, "guess-guess-guess").status_code == 200
    blocked = sign_in(client, "203.0.113.21", user.email, PASSWORD)
    assert blocked.status_code == 429 and "Try again in" in blocked.text
    # The limit per address, whatever the account: unlimited guessing is not let through.
    statuses = [
        sign_in(client, "203.0.113.22", f"guess{n}@example.com", "guess-guess-guess").status_code
        for n in range(PER_ADDRESS + 1)
    ]
    assert set(statuses[:-1]) == {200} and statuses[-1] == 429
    assert sign_in(app.test_client(), "203.0.113.23", other.email, PASSWORD).status_code == 302

    server.start()  # empty, as after a restart without persistence
    assert not keys_in(server, "*")
    # Both the limiter and the sign-in counters try Redis again after a few seconds of back-off.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        keys_in(server, "*LIMITER*") and keys_in(server, "*signin/failures*")
    ):
        time.sleep(0.5)
        sign_in(client, "203.0.113.24", user.email, "guess-guess-guess")
    assert keys_in(server, "*LIMITER*") and keys_in(server, "*signin/failures*")
