"""Links and redirects: same-site `next` targets only; e-mailed links from SITE_URL, never Host."""

import email
import email.policy
from pathlib import Path

import pytest

from marketplace.models import Role
from tests.conftest import csrf_from, post_form
from tests.factories import PASSWORD, make_user

# The usual ways to turn a "next" parameter into a redirect off-site.
OFF_SITE = (
    "https://evil.example/phish",
    "http:evil.example",
    "https:evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    " //evil.example",
    "https://localhost@evil.example",
    "//localhost@evil.example",
    "javascript:alert(1)",
    "evil.example",
)
ON_SITE = ("/auth/profile", "/search/needs?q=solar&sector=solar")


def _sign_in(client, user, target):
    page = client.get("/auth/login").get_data(as_text=True)
    data = {"email": user.email, "password": PASSWORD, "next": target}
    return client.post("/auth/login", data={**data, "csrf_token": csrf_from(page)})


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_redirects_off_site(app, client, target):
    user = make_user(app, role=Role.OWNER)
    response = _sign_in(client, user, target)
    assert response.status_code == 302
    assert response.headers["Location"] in ("/owner/", "http://localhost/owner/"), target


@pytest.mark.parametrize("target", ON_SITE)
def test_sign_in_returns_to_the_page_asked_for(app, client, target):
    user = make_user(app, role=Role.OWNER)
    response = _sign_in(client, user, target)
    assert response.headers["Location"].removeprefix("http://localhost") == target


@pytest.mark.parametrize("target", OFF_SITE)
def test_language_switch_never_redirects_off_site(app, client, target):
    response = post_form(client, "/auth/language", {"locale": "zh_Hans", "next": target}, page="/")
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "http://localhost/"), target


def test_language_switch_returns_to_the_page(app, client):
    response = post_form(
        client, "/auth/language", {"locale": "zh_Hant", "next": "/needs/?page=2"}, page="/"
    )
    assert response.headers["Location"].removeprefix("http://localhost") == "/needs/?page=2"


def _mails(app) -> list[Path]:
    return sorted(
        Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"), key=lambda p: p.stat().st_mtime
    )


def test_a_request_for_an_unknown_host_is_refused_and_mails_nothing(app, client):
    """Host-header poisoning: a reset asked for through Host: evil.example must mail no link."""
    user = make_user(app)
    before = len(_mails(app))
    # Deployed sites run without SERVER_NAME, which would otherwise hide the problem in tests.
    server_name, app.config["SERVER_NAME"] = app.config["SERVER_NAME"], None
    try:
        evil = {"Host": "evil.example"}
        page = client.get("/auth/forgot", headers=evil)
        token = csrf_from(page.get_data(as_text=True)) if page.status_code == 200 else ""
        response = client.post(
            "/auth/forgot", data={"email": user.email, "csrf_token": token}, headers=evil
        )
    finally:
        app.config["SERVER_NAME"] = server_name
    assert page.status_code == 400 and response.status_code == 400
    assert len(_mails(app)) == before


def test_emailed_links_are_built_on_site_url_not_on_the_host_header(app, client):
    user = make_user(app)
    site = app.config["SITE_URL"]
    app.config["SITE_URL"] = "https://market.example"
    try:  # the request's Host (localhost) is trusted, but links must not be built on it
        response = post_form(client, "/auth/forgot", {"email": user.email})
    finally:
        app.config["SITE_URL"] = site
    assert response.status_code == 302
    mail = email.message_from_bytes(_mails(app)[-1].read_bytes(), policy=email.policy.default)
    body = mail.get_content()
    assert "https://market.example/auth/reset/" in body
    assert "localhost" not in body
