"""Multi-factor authentication: enrolment, the second step of sign-in, recovery codes, replay
and rate limits, staff enrolment when required, disabling, an admin's reset, the configuration."""

import re
import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from config import ProductionConfig
from marketplace import create_app
from marketplace.extensions import db
from marketplace.models import AuditLog, MfaCredential, RecoveryCode, Role
from marketplace.services.accounts.mfa import RECOVERY_CODE_COUNT
from tests.conftest import csrf_from, post_form
from tests.factories import PASSWORD, make_user

SECRET_RE = re.compile(r'id="mfa-secret"[^>]*>([A-Z2-7 ]+)<')
RECOVERY_RE = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")
WRONG = "The code is not correct or has already been used."


def _enrol(client) -> tuple[str, list[str]]:
    """Set up MFA as a user would: read the key off the page, type the app's current code."""
    page = client.get("/auth/mfa/enrol").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    response = client.post(
        "/auth/mfa/enrol", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(page)}
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return secret, RECOVERY_RE.findall(response.get_data(as_text=True))


def _next_code(secret: str) -> str:
    """The code of the next 30-second step: still accepted (clock drift), never used before."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def _password_step(client, user, next_target=""):
    return post_form(
        client, "/auth/login", {"email": user.email, "password": PASSWORD, "next": next_target}
    )


def _code_step(client, code):
    return post_form(client, "/auth/mfa", {"code": code})


def _enrolled(app, role=Role.OWNER, **fields):
    """A user with MFA on, set up through the pages; returns (user, secret, recovery codes)."""
    user = make_user(app, role=role, **fields)
    browser = app.test_client()
    _password_step(browser, user)
    secret, codes = _enrol(browser)
    return user, secret, codes


def _actions(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()


def test_owner_turns_mfa_on_from_the_profile(app, client, login_as):
    user = make_user(app)
    login_as(user)
    profile = client.get("/auth/profile").get_data(as_text=True)
    assert "Two-factor authentication" in profile and "/auth/mfa/settings" in profile
    assert "/auth/mfa/enrol" in client.get("/auth/mfa/settings").get_data(as_text=True)
    page = client.get("/auth/mfa/enrol").get_data(as_text=True)
    assert '<img src="data:image/svg+xml' in page and 'alt="QR code' in page
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    wrong = post_form(client, "/auth/mfa/enrol", {"code": "000000"})
    assert WRONG in wrong.get_data(as_text=True)
    _, codes = _enrol(client)
    assert len(codes) == RECOVERY_CODE_COUNT == len(set(codes))
    with app.app_context():
        credential = db.session.get(MfaCredential, user.id)
        assert credential.secret == secret and credential.is_enabled
        hashes = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(hashes) == RECOVERY_CODE_COUNT
        assert all(h.startswith("scrypt:") for h in hashes)
        assert not any(code.replace("-", "") in h for h in hashes for code in codes)
    assert "auth.mfa_enabled" in _actions(app)
    assert "Unused recovery codes: 10." in client.get("/auth/mfa/settings").get_data(as_text=True)


def test_an_unfinished_set_up_keeps_its_key_for_an_hour_only(app, client, login_as):
    user = make_user(app)
    login_as(user)
    first = client.get("/auth/mfa/enrol")
    assert first.headers["Cache-Control"] == "no-store"
    key = SECRET_RE.search(first.text).group(1)
    assert SECRET_RE.search(client.get("/auth/mfa/enrol").text).group(1) == key
    with app.app_context():
        credential = db.session.get(MfaCredential, user.id)
        credential.created_at -= timedelta(hours=2)
        db.session.commit()
    assert SECRET_RE.search(client.get("/auth/mfa/enrol").text).group(1) != key


def test_password_alone_does_not_sign_in_a_user_with_mfa(app):
    user, secret, _ = _enrolled(app, role=Role.INVESTOR)
    client = app.test_client()
    response = _password_step(client, user, next_target="/auth/profile")
    assert response.headers["Location"].endswith("/auth/mfa")
    assert client.get("/investor/").status_code == 302
    assert client.get("/auth/profile").status_code == 302
    response = _code_step(client, _next_code(secret))
    assert response.headers["Location"].endswith("/auth/profile")
    assert client.get("/investor/").status_code == 200
    assert "auth.mfa_passed" in _actions(app)


def test_a_code_is_accepted_only_once(app):
    user, secret, _ = _enrolled(app)
    code = _next_code(secret)
    first, second = app.test_client(), app.test_client()
    _password_step(first, user)
    assert _code_step(first, code).status_code == 302
    _password_step(second, user)
    replay = _code_step(second, code)
    assert replay.status_code == 200 and WRONG in replay.get_data(as_text=True)
    assert second.get("/owner/").status_code == 302


def test_the_enrolment_code_cannot_sign_in_again(app, client):
    user = make_user(app)
    _password_step(client, user)
    page = client.get("/auth/mfa/enrol").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    code = pyotp.TOTP(secret).now()
    post_form(client, "/auth/mfa/enrol", {"code": code})
    other = app.test_client()
    _password_step(other, user)
    assert WRONG in _code_step(other, code).get_data(as_text=True)


def test_a_recovery_code_signs_in_once(app):
    user, _, codes = _enrolled(app)
    first, second = app.test_client(), app.test_client()
    _password_step(first, user)
    # Typed the way people copy codes: upper case, spaces instead of dashes.
    typed = codes[3].upper().replace("-", " ")
    assert _code_step(first, typed).headers["Location"].endswith("/owner/")
    _password_step(second, user)
    assert WRONG in _code_step(second, codes[3]).get_data(as_text=True)
    assert _code_step(second, codes[4]).status_code == 302
    with app.app_context():
        used = db.session.scalars(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None)))
        assert len(used.all()) == 2


def test_wrong_codes_are_refused_then_rate_limited_per_account(app):
    user, secret, _ = _enrolled(app)
    client = app.test_client()
    _password_step(client, user)
    for guess in ("000000", "123456", "999999", "abcd-efgh-jkmn", "12345"):
        response = _code_step(client, guess)
        assert response.status_code == 200 and WRONG in response.get_data(as_text=True)
    right = _code_step(client, _next_code(secret))
    assert right.status_code == 429
    assert "Too many attempts" in right.get_data(as_text=True)
    # A fresh password step in another browser does not reset the account's count.
    other = app.test_client()
    _password_step(other, user)
    assert _code_step(other, _next_code(secret)).status_code == 429
    assert _actions(app).count("auth.mfa_failed") == 5


def test_the_pending_sign_in_expires(app, client):
    user, secret, _ = _enrolled(app)
    _password_step(client, user)
    with client.session_transaction() as session:
        session["mfa_pending"] = {**session["mfa_pending"], "until": int(time.time()) - 1}
    response = client.get("/auth/mfa")
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")
    token = csrf_from(client.get("/auth/login").text)
    late = client.post("/auth/mfa", data={"code": _next_code(secret), "csrf_token": token})
    assert late.headers["Location"].endswith("/auth/login")
    assert client.get("/owner/").status_code == 302
    assert app.test_client().get("/auth/mfa").status_code == 302


@pytest.mark.parametrize("role", [Role.BROKER, Role.ADMIN])
def test_staff_must_enrol_before_any_page_when_required(app, client, monkeypatch, role):
    monkeypatch.setitem(app.config, "MFA_REQUIRED_FOR_STAFF", True)
    user = make_user(app, role=role)
    home = "/broker/" if role == Role.BROKER else "/admin/"
    assert _password_step(client, user).headers["Location"].endswith(home)
    for page in (home, "/auth/profile", "/deals/notifications", "/broker/queue", "/admin/"):
        response = client.get(page)
        assert response.status_code == 302, page
        assert "/auth/mfa/enrol" in response.headers["Location"], page
    page = client.get("/auth/mfa/enrol").get_data(as_text=True)
    assert "Brokers and administrators must use two-factor authentication" in page
    secret, _ = _enrol(client)
    assert client.get(home).status_code == 200
    other = app.test_client()
    assert _password_step(other, user).headers["Location"].endswith("/auth/mfa")
    assert _code_step(other, _next_code(secret)).headers["Location"].endswith(home)


def test_enrolment_returns_to_the_page_asked_for(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MFA_REQUIRED_FOR_STAFF", True)
    _password_step(client, make_user(app, role=Role.BROKER))
    response = client.get("/broker/queue?sector=solar")
    location = response.headers["Location"]
    assert "/auth/mfa/enrol?next=" in location
    page = client.get(location).get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    done = post_form(client, location, {"code": pyotp.TOTP(secret).now()})
    assert 'href="/broker/queue?sector=solar"' in done.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.OWNER, Role.INVESTOR])
def test_owners_and_investors_choose_for_themselves(app, client, monkeypatch, role):
    monkeypatch.setitem(app.config, "MFA_REQUIRED_FOR_STAFF", True)
    user = make_user(app, role=role)
    _password_step(client, user)
    assert client.get(f"/{role.value}/").status_code == 200
    assert client.get("/auth/profile").status_code == 200


def test_admin_reset_is_audited_and_ends_the_users_sessions(app, client, login_as):
    broker, secret, _ = _enrolled(app, role=Role.BROKER)
    broker_browser = app.test_client()
    _password_step(broker_browser, broker)
    _code_step(broker_browser, _next_code(secret))
    assert broker_browser.get("/broker/").status_code == 200
    admin = make_user(app, role=Role.ADMIN)
    login_as(admin)
    page = client.get(f"/admin/users/{broker.id}").get_data(as_text=True)
    assert "Reset two-factor authentication" in page
    response = post_form(client, f"/admin/users/{broker.id}/mfa/reset", {}, page="/admin/")
    assert response.status_code == 302
    assert broker_browser.get("/broker/").status_code == 302
    with app.app_context():
        assert db.session.get(MfaCredential, broker.id) is None
        assert not db.session.scalars(select(RecoveryCode)).all()
        entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "auth.mfa_reset"))
        assert entry.actor_id == admin.id and entry.target_id == str(broker.id)
    again = app.test_client()
    assert _password_step(again, broker).headers["Location"].endswith("/broker/")


def test_only_admins_reset_and_never_their_own(app, client, login_as):
    admin, secret, _ = _enrolled(app, role=Role.ADMIN)
    url = f"/admin/users/{admin.id}/mfa/reset"
    login_as(make_user(app, role=Role.BROKER))
    assert post_form(client, url, {}, page="/broker/").status_code == 403
    admin_browser = app.test_client()
    _password_step(admin_browser, admin)
    _code_step(admin_browser, _next_code(secret))
    assert "Reset two-factor" not in admin_browser.get(f"/admin/users/{admin.id}").text
    refused = post_form(admin_browser, url, {}, page="/admin/", follow_redirects=True)
    assert "You cannot reset your own two-factor authentication" in refused.text
    with app.app_context():
        assert db.session.get(MfaCredential, admin.id).is_enabled
    assert "auth.mfa_reset" not in _actions(app)


def test_disabling_needs_password_and_code_and_ends_other_sessions(app, client):
    user = make_user(app)
    _password_step(client, user)
    secret, codes = _enrol(client)
    other = app.test_client()
    _password_step(other, user)
    _code_step(other, _next_code(secret))
    assert other.get("/owner/").status_code == 200
    url, page = "/auth/mfa/disable", "/auth/mfa/settings"
    wrong_password = post_form(
        client, url, {"disable-password": "not-it-123", "disable-code": codes[0]}, page=page
    )
    assert wrong_password.status_code == 400
    assert "current password is not correct" in wrong_password.get_data(as_text=True)
    wrong_code = post_form(
        client, url, {"disable-password": PASSWORD, "disable-code": "000000"}, page=page
    )
    assert wrong_code.status_code == 400 and WRONG in wrong_code.get_data(as_text=True)
    done = post_form(
        client, url, {"disable-password": PASSWORD, "disable-code": codes[0]}, page=page
    )
    assert done.status_code == 302
    assert client.get("/owner/").status_code == 200
    assert other.get("/owner/").status_code == 302
    assert "auth.mfa_disabled" in _actions(app)
    with app.app_context():
        assert db.session.get(MfaCredential, user.id) is None
    assert _password_step(app.test_client(), user).headers["Location"].endswith("/owner/")


def test_new_recovery_codes_replace_the_old_ones(app, client):
    user = make_user(app)
    _password_step(client, user)
    _, old = _enrol(client)
    response = post_form(
        client, "/auth/mfa/recovery-codes", {"recovery-code": old[0]}, page="/auth/mfa/settings"
    )
    new = RECOVERY_RE.findall(response.get_data(as_text=True))
    assert len(new) == RECOVERY_CODE_COUNT and not set(new) & set(old)
    browser = app.test_client()
    _password_step(browser, user)
    assert WRONG in _code_step(browser, old[1]).get_data(as_text=True)
    assert _code_step(browser, new[0]).status_code == 302
    assert "auth.mfa_recovery_codes_replaced" in _actions(app)


def test_production_refuses_to_start_with_mfa_for_staff_off(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "x" * 40)
    monkeypatch.setattr(ProductionConfig, "SITE_URL", "https://market.example")
    monkeypatch.setattr(ProductionConfig, "RATELIMIT_STORAGE_URI", "redis://localhost:6379/0")
    assert create_app("production").config["MFA_REQUIRED_FOR_STAFF"] is True
    with pytest.raises(RuntimeError, match="MFA_REQUIRED_FOR_STAFF"):
        create_app("production", MFA_REQUIRED_FOR_STAFF=False)
    monkeypatch.setattr(ProductionConfig, "MFA_REQUIRED_FOR_STAFF", False)
    with pytest.raises(RuntimeError, match="MFA_REQUIRED_FOR_STAFF"):
        create_app("production")


def test_demo_staff_sign_in_with_their_password_alone(app):
    """`make run` (the development configuration): the four demo log-ins need no second factor."""
    demo = create_app(
        "development",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        MAIL_OUTBOX_DIR=app.config["MAIL_OUTBOX_DIR"],
        UPLOAD_DIR=app.config["UPLOAD_DIR"],
        MODEL_DIR=app.config["MODEL_DIR"],
    )
    assert demo.config["MFA_REQUIRED_FOR_STAFF"] is False
    broker = make_user(app, role=Role.BROKER, email="broker@demo.test")
    client = demo.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    assert "two-factor authentication is not required for brokers and administrators" in page
    assert _password_step(client, broker).headers["Location"].endswith("/broker/")
    assert client.get("/broker/").status_code == 200
    with demo.app_context():
        db.engine.dispose()


def test_sign_in_page_says_nothing_about_the_demo_when_mfa_is_required(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MFA_REQUIRED_FOR_STAFF", True)
    assert "demo site" not in client.get("/auth/login").get_data(as_text=True)


@pytest.mark.parametrize(
    ("locale", "heading", "lang"),
    [("zh_Hans", "双重认证", "zh-Hans"), ("zh_Hant", "雙重認證", "zh-Hant")],
)
def test_mfa_pages_speak_both_chinese_scripts(app, client, locale, heading, lang):
    user = make_user(app, locale=locale)
    accept = {"Accept-Language": lang}
    pages = [app.test_client().get("/auth/login", headers=accept).text]
    _password_step(client, user)
    pages.append(client.get("/auth/mfa/enrol").text)
    _, codes = _enrol(client)
    pages.append(client.get("/auth/mfa/settings").text)
    other = app.test_client()
    _password_step(other, user)
    pages.append(other.get("/auth/mfa").text)
    for page in pages:
        assert f'lang="{lang}"' in page and heading in page
        assert "two-factor" not in page.lower()
