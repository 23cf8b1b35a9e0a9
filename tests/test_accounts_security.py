"""Accounts and sessions (#19 §4): the password rule, no enumeration, opaque tokens, e-mail
confirmation, sign-in throttling and session lifetimes."""

import email
import email.policy
import hashlib
import re
import statistics
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from config import ProductionConfig
from marketplace import create_app
from marketplace.extensions import db, limiter
from marketplace.models import (
    AccountToken,
    AuditLog,
    FinanceProduct,
    FinancingNeed,
    NeedStatus,
    Organisation,
    OrgKind,
    ProductStatus,
    Role,
    TokenPurpose,
    User,
    utcnow,
)
from marketplace.services.accounts import accounts, throttle
from marketplace.services.accounts.passwords import password_problem
from tests.conftest import post_form
from tests.factories import PASSWORD, make_need, make_org, make_product, make_user

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


# 2. No enumeration


def _mails(app) -> list:
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    paths = sorted(outbox.glob("*.eml"), key=lambda path: path.stat().st_mtime)
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in paths]


def test_registration_answers_the_same_for_a_taken_email_and_mails_its_owner(app, client):
    owner = make_user(app, email="taken@example.com", display_name="Bat Erdene")
    before = len(_mails(app))
    taken = _register(client, email="TAKEN@example.com")
    fresh = _register(app.test_client(), email="fresh@example.com")
    assert taken.status_code == fresh.status_code == 200
    assert taken.request.path == fresh.request.path == "/auth/login"
    assert "Check your e-mail" in taken.text and "Check your e-mail" in fresh.text
    assert "already exists" not in taken.text
    notices = [m for m in _mails(app)[before:] if m["To"] == owner.email]
    assert len(notices) == 1 and "tried to register" in notices[0]["Subject"]
    assert "/auth/forgot" in notices[0].get_content()
    with app.app_context():
        assert accounts.find_by_email("taken@example.com").display_name == "Bat Erdene"
        assert (
            db.session.scalar(
                select(func.count(Organisation.id)).where(
                    Organisation.name == REGISTRATION["organisation_name"]
                )
            )
            == 1
        )  # only the fresh address's


def test_password_reset_answers_the_same_for_an_unknown_email(app, client):
    make_user(app, email="known@example.com")
    known = post_form(client, "/auth/forgot", {"email": "known@example.com"}, follow_redirects=True)
    unknown = post_form(
        client, "/auth/forgot", {"email": "nobody@example.com"}, follow_redirects=True
    )
    assert known.status_code == unknown.status_code == 200
    flash = "If an account exists for that email, a reset link is on its way."
    assert flash in known.text and flash in unknown.text


def _login_seconds(client, address: str, tries: int = 3) -> float:
    timings = []
    for _ in range(tries):
        start = time.perf_counter()
        post_form(client, "/auth/login", {"email": address, "password": "wrong-password-9"})
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def test_login_takes_about_as_long_for_an_unknown_email(app, client):
    user = make_user(app)
    _login_seconds(client, "warm-up@example.com", tries=1)
    known = _login_seconds(client, user.email)
    unknown = _login_seconds(client, "nobody@example.com")
    # A scrypt check dominates both; without one the unknown address answers many times faster.
    assert unknown > known * 0.5, (known, unknown)


# 3. Opaque, hashed, single-use tokens


def _link(app, path: str) -> str:
    body = _mails(app)[-1].get_content()
    return re.search(rf"http://localhost({path}\S+)", body).group(1)


def test_reset_token_is_random_stored_hashed_and_reveals_no_password_hash(app, client):
    user = make_user(app)
    post_form(client, "/auth/forgot", {"email": user.email})
    token = _link(app, "/auth/reset/").rsplit("/", 1)[1]
    assert len(token) >= 43 and "." not in token  # no signed payload, just randomness
    with app.app_context():
        stored = db.session.scalars(select(AccountToken)).one()
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
        assert stored.purpose == TokenPurpose.PASSWORD_RESET and stored.user_id == user.id
        password_hash = db.session.get(User, user.id).password_hash
    assert password_hash[-16:] not in token


def test_reset_token_expires(app, client):
    user = make_user(app)
    post_form(client, "/auth/forgot", {"email": user.email})
    link = _link(app, "/auth/reset/")
    with app.app_context():
        db.session.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = client.get(link)
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/forgot")


def test_a_new_reset_link_or_a_password_change_ends_the_old_link(app, client, login_as):
    user = make_user(app)
    post_form(client, "/auth/forgot", {"email": user.email})
    first = _link(app, "/auth/reset/")
    post_form(client, "/auth/forgot", {"email": user.email})
    second = _link(app, "/auth/reset/")
    assert client.get(first).status_code == 302 and client.get(second).status_code == 200
    login_as(user)
    post_form(
        client,
        "/auth/password",
        {
            "password-current_password": PASSWORD,
            "password-password": PASSPHRASE,
            "password-confirm": PASSPHRASE,
        },
        page="/auth/profile",
    )
    assert client.get(second).status_code == 302


# 4. A confirmed e-mail before a listing goes out; registration throttled


def test_registration_mails_a_confirmation_link_that_confirms_the_address(app, client):
    _register(client)
    link = _link(app, "/auth/confirm/")
    with app.app_context():
        assert not accounts.find_by_email(REGISTRATION["email"]).email_confirmed
    response = client.get(link, follow_redirects=True)
    assert "your e-mail address is confirmed" in response.text
    with app.app_context():
        assert accounts.find_by_email(REGISTRATION["email"]).email_confirmed
    assert "invalid or has expired" in client.get(link, follow_redirects=True).text


def test_unconfirmed_owner_cannot_submit_a_need_until_confirmed(app, client, login_as):
    owner = make_user(app, email_confirmed=False)
    need = make_need(app, owner)
    login_as(owner)
    page = client.get("/owner/").text
    assert "Send the link again" in page
    response = post_form(
        client,
        f"/owner/needs/{need.id}/submit",
        {},
        page=f"/needs/{need.id}",
        follow_redirects=True,
    )
    assert "Confirm your e-mail address first" in response.text
    with app.app_context():
        assert db.session.get(FinancingNeed, need.id).status == NeedStatus.DRAFT
    resent = post_form(
        client, "/auth/confirm", {"next": "/owner/"}, page="/owner/", follow_redirects=True
    )
    assert "A new confirmation link is on its way" in resent.text
    client.get(_link(app, "/auth/confirm/"))
    post_form(client, f"/owner/needs/{need.id}/submit", {}, page=f"/needs/{need.id}")
    with app.app_context():
        assert db.session.get(FinancingNeed, need.id).status == NeedStatus.SUBMITTED


def test_unconfirmed_investor_cannot_activate_a_product(app, client, login_as):
    investor = make_user(app, role=Role.INVESTOR, email_confirmed=False)
    product = make_product(app, investor, status=ProductStatus.DRAFT)
    login_as(investor)
    response = post_form(
        client,
        f"/investor/products/{product.id}/activate",
        {},
        page=f"/products/{product.id}",
        follow_redirects=True,
    )
    assert "Confirm your e-mail address first" in response.text
    with app.app_context():
        assert db.session.get(FinanceProduct, product.id).status == ProductStatus.DRAFT


def test_staff_created_by_an_admin_are_confirmed(app):
    with app.app_context():
        organisation = db.session.get(Organisation, make_org(app, OrgKind.BROKER_FIRM).id)
        broker = accounts.create_staff_user(
            "new.broker@example.com", PASSPHRASE, "New Broker", Role.BROKER, organisation
        )
        assert broker.email_confirmed


def test_registration_is_throttled_per_client_address(app, client):
    limit = int(app.config["REGISTER_LIMIT_PER_IP"].split()[0])
    for number in range(limit):
        _register(client, email=f"person{number}@example.com")
    response = post_form(client, "/auth/register", {**REGISTRATION, "email": "one@more.example"})
    assert response.status_code == 429


# 5. Sign-in throttling: per (account, address) with back-off, in the shared limiter storage


def _sign_in(client, address: str, user_email: str, password: str):
    return post_form(
        client,
        "/auth/login",
        {"email": user_email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_an_attacker_cannot_lock_the_user_out_from_another_address(app):
    user = make_user(app)
    attacker, owner = app.test_client(), app.test_client()
    for _ in range(app.config["LOGIN_FREE_FAILURES"] + 3):
        _sign_in(attacker, "203.0.113.9", user.email, "guess-guess-guess")
    assert _sign_in(attacker, "203.0.113.9", user.email, PASSWORD).status_code == 429
    assert _sign_in(owner, "198.51.100.7", user.email, PASSWORD).status_code == 302


def test_back_off_grows_and_the_password_is_not_checked_while_blocked(app, client):
    user = make_user(app)
    address, free = "203.0.113.10", app.config["LOGIN_FREE_FAILURES"]
    for _ in range(free):
        assert _sign_in(client, address, user.email, "guess-guess-guess").status_code == 200
    assert _sign_in(client, address, user.email, "guess-guess-guess").status_code == 200
    first = _sign_in(client, address, user.email, PASSWORD)
    assert first.status_code == 429 and "Try again in" in first.text
    waits = [int(re.search(r"Try again in (\d+) seconds", first.text).group(1))]
    with app.app_context():
        failures_before = _failed_logins()
    # The block ends; the next failure blocks twice as long.
    limiter.storage.clear(throttle._key("blocked", user.email, address))
    _sign_in(client, address, user.email, "guess-guess-guess")
    second = _sign_in(client, address, user.email, PASSWORD)
    waits.append(int(re.search(r"Try again in (\d+) seconds", second.text).group(1)))
    assert waits[1] > waits[0] >= app.config["LOGIN_BACKOFF_BASE"]
    with app.app_context():
        assert _failed_logins() == failures_before + 1  # the blocked tries were not checked


def _failed_logins() -> int:
    return db.session.scalar(
        select(func.count(AuditLog.id)).where(AuditLog.action == "auth.login_failed")
    )


def test_a_success_clears_the_failures_of_that_address(app, client):
    user = make_user(app)
    address = "203.0.113.11"
    for _ in range(app.config["LOGIN_FREE_FAILURES"] - 1):
        _sign_in(client, address, user.email, "guess-guess-guess")
    assert _sign_in(client, address, user.email, PASSWORD).status_code == 302
    post_form(client, "/auth/logout", {}, page="/auth/profile")
    for _ in range(app.config["LOGIN_FREE_FAILURES"]):
        assert _sign_in(client, address, user.email, "guess-guess-guess").status_code == 200


def test_counters_live_in_the_limiter_storage_shared_by_workers(app, client):
    user = make_user(app)
    _sign_in(client, "203.0.113.12", user.email, "guess-guess-guess")
    key = throttle._key("failures", user.email, "203.0.113.12")
    assert limiter.storage.get(key) == 1 and user.email not in key


def test_one_address_cannot_try_many_accounts_fast(app, client):
    limit = int(app.config["LOGIN_LIMIT_PER_IP"].split()[0])
    statuses = [
        _sign_in(client, "203.0.113.13", f"guess{n}@example.com", "guess-guess-guess").status_code
        for n in range(limit + 1)
    ]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {200}


def test_production_refuses_an_in_memory_limiter(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "x" * 40)
    monkeypatch.setattr(ProductionConfig, "SITE_URL", "https://market.example")
    monkeypatch.setattr(ProductionConfig, "RATELIMIT_STORAGE_URI", "memory://")
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI"):
        create_app("production")


# 6. Session lifetimes; a password change ends the other sessions only


def _age_session(client, *, idle: float = 0, since_sign_in: float = 0) -> None:
    with client.session_transaction() as session:
        session["seen_at"] -= idle
        session["signed_in_at"] -= since_sign_in


@pytest.mark.parametrize(
    ("role", "home", "setting"),
    [
        (Role.OWNER, "/owner/", "SESSION_IDLE_TIMEOUT"),
        (Role.INVESTOR, "/investor/", "SESSION_IDLE_TIMEOUT"),
        (Role.BROKER, "/broker/", "SESSION_IDLE_TIMEOUT_STAFF"),
        (Role.ADMIN, "/admin/", "SESSION_IDLE_TIMEOUT_STAFF"),
    ],
)
def test_idle_sessions_end_sooner_for_staff(app, client, login_as, role, home, setting):
    login_as(make_user(app, role=role))
    idle = app.config[setting]
    _age_session(client, idle=idle - 60)
    assert client.get(home).status_code == 200  # and the request counts as activity
    _age_session(client, idle=idle + 1)
    response = client.get(home, follow_redirects=True)
    assert response.request.path == "/auth/login" and "Your session has expired" in response.text
    assert client.get(home).status_code == 302


def test_activity_is_stamped_at_most_once_a_minute_without_rewriting_the_cookie(
    app, client, login_as
):
    login_as(make_user(app))
    with client.session_transaction() as session:
        stamped = session["seen_at"]
    response = client.get("/owner/")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    _age_session(client, idle=61)
    response = client.get("/owner/")
    assert response.status_code == 200 and "session=" in response.headers["Set-Cookie"]
    with client.session_transaction() as session:
        assert session["seen_at"] >= stamped  # moved to now, not left a minute behind


def test_staff_idle_limit_is_shorter_than_others():
    assert ProductionConfig.SESSION_IDLE_TIMEOUT_STAFF == 30 * 60
    assert ProductionConfig.SESSION_IDLE_TIMEOUT == 12 * 3600


def test_active_sessions_end_after_the_absolute_lifetime(app, client, login_as):
    login_as(make_user(app))
    _age_session(client, since_sign_in=app.config["SESSION_ABSOLUTE_LIFETIME"] - 60)
    assert client.get("/owner/").status_code == 200
    _age_session(client, since_sign_in=61)
    assert client.get("/owner/").status_code == 302


def test_password_change_ends_every_other_session_but_keeps_this_one(app):
    user = make_user(app)
    this, other = app.test_client(), app.test_client()
    for browser in (this, other):
        post_form(browser, "/auth/login", {"email": user.email, "password": PASSWORD})
    with app.app_context():
        token_before = db.session.get(User, user.id).session_token
    response = post_form(
        this,
        "/auth/password",
        {
            "password-current_password": PASSWORD,
            "password-password": PASSPHRASE,
            "password-confirm": PASSPHRASE,
        },
        page="/auth/profile",
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).session_token != token_before
    assert this.get("/owner/").status_code == 200
    assert other.get("/owner/").status_code == 302
