"""Cached page fragments (marketplace/page_cache.py): fresh after every write, one per language,
never anything of one viewer shown to another, never an unpublished listing."""

import shutil
import socket
import subprocess
import time
from decimal import Decimal

import pytest

from marketplace import create_app
from marketplace.extensions import db
from marketplace.models import FinanceProduct, FinancingNeed, NeedStatus, Organisation, Role
from tests.conftest import post_form
from tests.factories import make_need, make_product, make_user

ZH_HANS = {"Accept-Language": "zh-CN"}


@pytest.fixture
def owner(app):
    return make_user(app, Role.OWNER, display_name="Olga Owner")


def _publish(app, owner, title, **fields):
    return make_need(app, owner, title_en=title, status=NeedStatus.PUBLISHED, **fields)


def _update(app, model, ident, **values):
    """A write through the ORM in its own transaction, as a service makes it."""
    with app.app_context():
        record = db.session.get(model, ident)
        for name, value in values.items():
            setattr(record, name, value)
        db.session.commit()


@pytest.mark.parametrize("path", ["/", "/needs", "/needs?sector=solar"])
def test_a_newly_published_need_shows_at_once(app, client, owner, path):
    _publish(app, owner, "Karachi rooftop solar")
    assert "Karachi rooftop solar" in client.get(path).text  # now cached
    _publish(app, owner, "Lahore solar carport")
    page = client.get(path).text
    assert "Lahore solar carport" in page and "Karachi rooftop solar" in page


@pytest.mark.parametrize("path", ["/", "/needs"])
def test_a_withdrawn_or_edited_need_leaves_the_cached_pages(app, client, owner, path):
    need = _publish(app, owner, "Sindh wind farm")
    assert "Sindh wind farm" in client.get(path).text
    _update(app, FinancingNeed, need.id, title_en="Sindh wind farm, phase two")
    assert "Sindh wind farm, phase two" in client.get(path).text
    _update(app, FinancingNeed, need.id, status=NeedStatus.WITHDRAWN)
    assert "Sindh wind farm" not in client.get(path).text


def test_product_and_organisation_writes_refresh_the_landing_page(app, client, owner):
    investor = make_user(app, Role.INVESTOR)
    product = make_product(app, investor)
    _publish(app, owner, "Balochistan solar", show_organisation=True)
    assert _active_products_figure(client.get("/").text) == "1"
    make_product(app, investor, name_en="Second loan")
    assert _active_products_figure(client.get("/").text) == "2"
    _update(app, FinanceProduct, product.id, status="paused")
    assert _active_products_figure(client.get("/").text) == "1"
    _update(app, Organisation, owner.organisation_id, name="Renamed Sponsor Ltd")
    assert "Renamed Sponsor Ltd" in client.get("/").text


def _active_products_figure(html: str) -> str:
    """The number shown under "Active finance products" on the landing page."""
    after = html.split("Active finance products", 1)[1]
    return after.split('class="fs-4 fw-semibold mb-0">', 1)[1].split("<", 1)[0].strip()


LANGUAGE_MARKERS = {
    "/": ("On the platform now", "平台当前概况"),
    "/needs": ("Narrow the results", "缩小结果范围"),
}


@pytest.mark.parametrize("path", list(LANGUAGE_MARKERS))
def test_each_language_gets_its_own_fragment(app, client, owner, path):
    english, chinese = LANGUAGE_MARKERS[path]
    _publish(app, owner, "Punjab solar")
    first = client.get(path).text
    assert english in first and chinese not in first
    in_chinese = client.get(path, headers=ZH_HANS).text
    assert chinese in in_chinese and english not in in_chinese and "Punjab solar" in in_chinese
    again = client.get(path).text
    assert english in again and chinese not in again


def test_a_drafts_title_never_reaches_a_cached_page(app, client, owner, login_as):
    _publish(app, owner, "Public solar park")
    make_need(app, owner, title_en="Secret draft hydro", status=NeedStatus.DRAFT)
    login_as(owner)
    for path in ("/", "/needs", "/owner/"):  # the owner's own views fill the cache first
        client.get(path)
    assert "Secret draft hydro" in client.get("/owner/").text
    visitor = app.test_client()
    for path in ("/", "/needs", "/needs?q=hydro"):
        assert "Secret draft hydro" not in visitor.get(path).text


def test_signed_in_pages_never_show_another_users_name_or_token(app, owner):
    _publish(app, owner, "Shared solar park")
    first = make_user(app, Role.INVESTOR, display_name="Ivan First")
    second = make_user(app, Role.INVESTOR, display_name="Ines Second")
    pages = {}
    for user in (first, second):
        client = app.test_client()
        _sign_in(client, user)
        pages[user.display_name] = client.get("/search/needs?sector=solar").text
    assert "Ivan First" in pages["Ivan First"] and "Ines Second" not in pages["Ivan First"]
    assert "Ines Second" in pages["Ines Second"] and "Ivan First" not in pages["Ines Second"]
    assert _tokens(pages["Ivan First"]).isdisjoint(_tokens(pages["Ines Second"]))
    visitor = app.test_client().get("/needs?sector=solar").text
    assert "Ivan First" not in visitor and "Ines Second" not in visitor
    assert "Shared solar park" in visitor


def _sign_in(client, user):
    answer = post_form(client, "/auth/login", {"email": user.email, "password": "correct-horse-9"})
    assert answer.status_code == 302


def _tokens(html: str) -> set[str]:
    return {part.split('"', 1)[0] for part in html.split('name="csrf_token" value="')[1:]}


def test_the_cache_follows_writes_made_by_another_process(app, owner, redis_url):
    """Two app instances (two gunicorn workers) sharing Redis: a product written through one
    is counted on the other's next landing page, though no need changed."""
    reader, writer = (_app_on_redis(app, redis_url, prefix="shared") for _ in range(2))
    investor = make_user(app, Role.INVESTOR)
    _publish(app, owner, "Two worker solar")
    client = reader.test_client()
    assert _active_products_figure(client.get("/").text) == "0"
    with writer.app_context():
        db.session.add(FinanceProduct(**_product_values(investor)))
        db.session.commit()
    assert _active_products_figure(client.get("/").text) == "1"


def _product_values(investor) -> dict:
    return {
        "organisation_id": investor.organisation_id,
        "created_by_id": investor.id,
        "name_en": "Cross-worker loan",
        "product_type": "green_loan",
        "ticket_min": Decimal("10000000"),
        "ticket_max": Decimal("100000000"),
        "currency": "USD",
        "ticket_min_usd": Decimal("10000000"),
        "ticket_max_usd": Decimal("100000000"),
        "tenor_min_years": 5,
        "tenor_max_years": 15,
        "sectors": ["solar"],
        "status": "active",
    }


def test_pages_keep_serving_when_redis_stops(app, owner, redis_server):
    worker = _app_on_redis(app, redis_server.url)
    _publish(app, owner, "Resilient solar")
    client = worker.test_client()
    assert "Resilient solar" in client.get("/").text
    redis_server.stop()
    for path in ("/", "/needs"):
        answer = client.get(path)
        assert answer.status_code == 200 and "Resilient solar" in answer.text


def _app_on_redis(app, url: str, prefix: str = "test"):
    """Another app on the test database, caching in Redis (as each gunicorn worker does)."""
    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL=url,
        CACHE_KEY_PREFIX=f"{prefix}:",
    )


class _RedisServer:
    """A throwaway redis-server on a random port that keeps nothing on disk."""

    def __init__(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        self.process = subprocess.Popen(
            [*args, "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = _RedisServer()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    return redis_server.url


def test_each_visitor_of_a_cached_page_gets_a_working_token_of_their_own(app, owner):
    _publish(app, owner, "Token solar")
    first, second = app.test_client(), app.test_client()
    pages = [visitor.get("/").text for visitor in (first, second, first)]
    assert all("Token solar" in page for page in pages)
    tokens = [_tokens(page) for page in pages]
    assert tokens[0] and tokens[1] and tokens[0].isdisjoint(tokens[1])
    switched = second.post(
        "/auth/language", data={"csrf_token": next(iter(tokens[1])), "locale": "zh_Hans"}
    )
    assert switched.status_code == 302
    assert "平台当前概况" in second.get("/").text
    assert "On the platform now" in first.get("/").text


def test_each_page_and_query_has_its_own_entry(app, client, owner):
    _publish(app, owner, "Entry solar", sector="solar")
    assert "On the platform now" in client.get("/").text
    browse = client.get("/needs").text
    assert "Narrow the results" in browse and "On the platform now" not in browse
    assert "Entry solar" in client.get("/needs?sector=solar").text
    assert "Entry solar" not in client.get("/needs?sector=wind").text


def test_the_cached_review_queue_follows_new_suggestions_and_decisions(
    app, client, owner, login_as
):
    from marketplace.models import Match, MatchStatus
    from tests.factories import make_match

    investor = make_user(app, Role.INVESTOR)
    product = make_product(app, investor, name_en="Queue loan")
    first = make_match(app, _publish(app, owner, "Queued wind farm"), product)
    login_as(make_user(app, Role.BROKER))
    page = client.get("/broker/queue").text
    assert "Queued wind farm" in page and "1 suggested matches" in page
    make_match(app, _publish(app, owner, "Second queued hydro"), product)
    page = client.get("/broker/queue").text
    assert "Second queued hydro" in page and "2 suggested matches" in page
    _update(app, Match, first.id, status=MatchStatus.REJECTED)
    page = client.get("/broker/queue").text
    assert "Queued wind farm" not in page and "1 suggested matches" in page
