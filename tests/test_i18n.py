"""Three languages: complete catalogues, the language choice, and locale formatting."""

import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from tests.conftest import post_form
from tests.factories import make_user

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "marketplace" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> set[str]:
    """Every message id in the code and templates right now."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            str(ROOT),
        ]
    )
    with pot.open("rb") as handle:
        return {
            message.id if isinstance(message.id, str) else message.id[0]
            for message in read_po(handle)
            if message.id
        }


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant"])
def test_catalogue_translates_every_string(extracted, locale):
    with (CATALOGUES / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {}
    for message in catalogue:
        if not message.id or message.fuzzy:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        text = message.string if isinstance(message.string, str) else message.string[0]
        if text:
            translated[key] = text
    missing = sorted(extracted - translated.keys())
    assert not missing, f"{len(missing)} untranslated in {locale}: {missing[:10]}"
    for key in extracted:
        assert set(PLACEHOLDER.findall(key)) == set(PLACEHOLDER.findall(translated[key])), key


def test_accept_language_is_respected_on_first_visit(client):
    assert 'lang="zh-Hant"' in client.get("/", headers={"Accept-Language": "zh-TW,zh;q=0.9"}).text
    assert 'lang="zh-Hans"' in client.get("/", headers={"Accept-Language": "zh-CN"}).text
    assert 'lang="en"' in client.get("/", headers={"Accept-Language": "fr-FR"}).text


def test_visitor_choice_is_remembered_in_the_browser(client):
    response = post_form(
        client, "/auth/language", {"locale": "zh_Hans", "next": "/auth/login"}, page="/"
    )
    assert response.headers["Location"].endswith("/auth/login")
    page = client.get("/auth/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="zh-Hans"' in page and "Sign in</h1>" not in page


def test_signed_in_choice_is_remembered_on_the_account(app, client, login_as):
    user = make_user(app)
    login_as(user)
    post_form(client, "/auth/language", {"locale": "zh_Hant", "next": "/owner/"}, page="/owner/")
    other_browser = app.test_client()
    post_form(other_browser, "/auth/login", {"email": user.email, "password": "correct-horse-9"})
    assert 'lang="zh-Hant"' in other_browser.get("/owner/").get_data(as_text=True)


def test_language_switch_never_redirects_off_site(client):
    response = post_form(
        client, "/auth/language", {"locale": "en", "next": "https://evil.example"}, page="/"
    )
    assert response.headers["Location"] == "/"


def test_numbers_and_money_follow_the_locale(app):
    from flask_babel import force_locale

    from marketplace.i18n import money

    with app.test_request_context(), force_locale("zh_Hans"):
        assert money(1234567.5, "CNY").startswith("¥")
    with app.test_request_context(), force_locale("en"):
        assert money(1234567.5, "USD") == "$1,234,567.50"
