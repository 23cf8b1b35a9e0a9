"""Accounts and sessions (#19 §4): the password rule, no enumeration, opaque tokens, e-mail
confirmation, sign-in throttling and session lifetimes."""

from marketplace.services.accounts import accounts
from marketplace.services.accounts.passwords import password_problem
from tests.conftest import post_form
from tests.factories import PASSWORD, make_user

REGISTRATION = {
    "role": "owner",
    "display_name": "Li Na",
    "email": "li.na@example.com",
    "password": "solar-power-2030",
    "confirm": "solar-power-2030",
    "organisation_name": "Gobi Sun Developments",
    "hub": "other",
    "country": "MN",
    "locale": "en",
}
PASSPHRASE = "camel caravans cross the gobi at dawn"


def _register(client, **changes):
    data = {**REGISTRATION, **changes}
    return post_form(client, "/auth/register", data, follow_redirects=True)


# 1. Passwords: NIST SP 800-63B


def test_common_and_short_passwords_are_refused_a_long_passphrase_accepted(app, client):
    for weak in ("password123", "password1234", "qwertyuiopasdf", "123456789012"):
        page = _register(client, password=weak, confirm=weak).get_data(as_text=True)
        assert "Create account" in page and ("at least 12" in page or "too common" in page), weak
    _register(client, password=PASSPHRASE, confirm=PASSPHRASE)
    with app.app_context():
        assert accounts.find_by_email(REGISTRATION["email"]) is not None


def test_no_composition_rule_and_a_length_cap():
    assert password_problem("correcthorsebatterystaple") is None  # letters only is fine
    assert password_problem("x" * 201) is not None
    assert password_problem(PASSPHRASE) is None


def test_password_equal_to_email_or_name_is_refused(client):
    for own in (REGISTRATION["email"], "Ulaanbaatar Solar Farmer"):
        page = _register(client, display_name="Ulaanbaatar Solar Farmer", password=own, confirm=own)
        assert "Do not use your e-mail address or your name" in page.text, own


def test_password_change_applies_the_rule(app, client, login_as):
    login_as(make_user(app))
    response = post_form(
        client,
        "/auth/password",
        {
            "password-current_password": PASSWORD,
            "password-password": "password1234",
            "password-confirm": "password1234",
        },
        page="/auth/profile",
    )
    assert response.status_code == 400 and "too common" in response.text
