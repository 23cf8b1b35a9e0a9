"""Accounts: registration, sign-in, sign-out, password change and reset, rate limits, redirects."""

import email
import email.policy
import re
from pathlib import Path

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AuditLog, Organisation, Role, User
from tests.conftest import csrf_from, post_form
from tests.factories import PASSWORD, make_user

REGISTRATION = {
    "role": "owner",
    "display_name": "Li Na",
    "email": "Li.Na@Example.com",
    "password": "solar-power-2030",
    "confirm": "solar-power-2030",
    "organisation_name": "Gobi Sun Developments",
    "hub": "other",
    "country": "MN",
    "locale": "en",
}


def test_register_owner_creates_account_and_organisation(app, client):
    response = post_form(client, "/auth/register", REGISTRATION)
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/login")
    post_form(client, "/auth/login", {"email": "li.na@example.com", "password": "solar-power-2030"})
    assert "Gobi Sun Developments" in client.get("/owner/").get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "li.na@example.com"))
        assert user.role == Role.OWNER and user.password_hash.startswith("scrypt:")
        assert user.organisation.name == "Gobi Sun Developments"
        assert user.organisation.kind == "sponsor" and user.organisation.country_iso2 == "MN"


def test_register_creates_nothing_for_a_taken_email_in_any_case(app, client):
    make_user(app, email="li.na@example.com")
    response = post_form(client, "/auth/register", REGISTRATION)
    assert response.status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(
                select(Organisation).where(Organisation.name == "Gobi Sun Developments")
            )
            is None
        )


def test_register_cannot_choose_broker_role(app, client):
    response = post_form(client, "/auth/register", {**REGISTRATION, "role": "broker"})
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_register_refuses_weak_password(client):
    data = {**REGISTRATION, "password": "short", "confirm": "short"}
    assert "at least 12 characters" in post_form(client, "/auth/register", data).get_data(
        as_text=True
    )


def test_login_error_does_not_reveal_which_part_was_wrong(app, client):
    user = make_user(app)
    wrong_password = post_form(
        client, "/auth/login", {"email": user.email, "password": "nope-nope-1"}
    )
    unknown_email = post_form(client, "/auth/login", {"email": "who@example.com", "password": "x"})
    message = "The email or password is not correct."
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown_email.get_data(as_text=True)
    with app.app_context():
        actions = db.session.scalars(select(AuditLog.action)).all()
        assert actions.count("auth.login_failed") == 2


def test_login_records_audit_and_goes_home(app, client):
    user = make_user(app, role=Role.INVESTOR)
    response = post_form(client, "/auth/login", {"email": user.email.upper(), "password": PASSWORD})
    assert response.headers["Location"].endswith("/investor/")
    with app.app_context():
        assert (
            db.session.scalar(select(AuditLog).where(AuditLog.action == "auth.login")).actor_id
            == user.id
        )


def test_login_backs_off_after_failures_on_an_account(app, client):
    user = make_user(app)
    for _ in range(6):
        post_form(client, "/auth/login", {"email": user.email, "password": "wrong-wrong-1"})
    response = post_form(client, "/auth/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)


def test_next_redirect_only_goes_to_this_site(app, client):
    user = make_user(app)
    for target, expected in (
        ("/auth/profile", "/auth/profile"),
        ("https://evil.example/phish", "/owner/"),
        ("//evil.example", "/owner/"),
    ):
        page = client.get(f"/auth/login?next={target}").get_data(as_text=True)
        response = client.post(
            "/auth/login",
            data={
                "email": user.email,
                "password": PASSWORD,
                "next": target,
                "csrf_token": csrf_from(page),
            },
        )
        assert response.headers["Location"].endswith(expected), target
        post_form(client, "/auth/logout", {}, page="/auth/profile")


def test_post_without_csrf_token_is_refused(app, client):
    user = make_user(app)
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


def test_logout_kills_a_captured_session_cookie(app, client, login_as):
    user = make_user(app)
    login_as(user)
    stolen = client.get_cookie("session").value
    post_form(client, "/auth/logout", {}, page="/auth/profile")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/owner/").status_code == 302


def test_password_change_ends_other_sessions(app, login_as):
    user = make_user(app)
    first, second = app.test_client(), app.test_client()
    for browser in (first, second):
        post_form(browser, "/auth/login", {"email": user.email, "password": PASSWORD})
    response = post_form(
        first,
        "/auth/password",
        {
            "password-current_password": PASSWORD,
            "password-password": "new-password-42",
            "password-confirm": "new-password-42",
        },
        page="/auth/profile",
    )
    assert response.status_code == 302
    assert first.get("/owner/").status_code == 200
    assert second.get("/owner/").status_code == 302


def test_password_change_needs_current_password(app, client, login_as):
    login_as(make_user(app))
    response = post_form(
        client,
        "/auth/password",
        {
            "password-current_password": "not-my-password-1",
            "password-password": "new-password-42",
            "password-confirm": "new-password-42",
        },
        page="/auth/profile",
    )
    assert response.status_code == 400
    assert "current password is not correct" in response.get_data(as_text=True)


def _reset_link(app) -> str:
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    mails = sorted(outbox.glob("*.eml"), key=lambda path: path.stat().st_mtime)
    body = email.message_from_bytes(
        mails[-1].read_bytes(), policy=email.policy.default
    ).get_content()
    return re.search(r"http://localhost(/auth/reset/\S+)", body).group(1)


def test_password_reset_by_emailed_link_works_once(app, client):
    user = make_user(app)
    response = post_form(client, "/auth/forgot", {"email": user.email})
    assert response.status_code == 302
    link = _reset_link(app)
    response = post_form(
        client, link, {"password": "fresh-password-7", "confirm": "fresh-password-7"}
    )
    assert response.headers["Location"].endswith("/auth/login")
    assert (
        post_form(
            client, "/auth/login", {"email": user.email, "password": "fresh-password-7"}
        ).status_code
        == 302
    )
    post_form(client, "/auth/logout", {}, page="/auth/profile")
    again = client.get(link)
    assert again.status_code == 302 and again.headers["Location"].endswith("/auth/forgot")


def test_forgot_password_answers_the_same_for_unknown_email(app, client):
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    before = len(list(outbox.glob("*.eml")))
    response = post_form(
        client, "/auth/forgot", {"email": "nobody@example.com"}, follow_redirects=True
    )
    assert "If an account exists" in response.get_data(as_text=True)
    assert len(list(outbox.glob("*.eml"))) == before


def test_profile_edit_and_language_choice_persist(app, client, login_as):
    user = make_user(app)
    login_as(user)
    response = post_form(
        client, "/auth/profile", {"profile-display_name": "Wang Fang", "profile-locale": "zh_Hant"}
    )
    assert response.status_code == 302
    page = client.get("/owner/").get_data(as_text=True)
    assert 'lang="zh-Hant"' in page and "Wang Fang" in page
    with app.app_context():
        assert db.session.get(User, user.id).locale == "zh_Hant"


def test_session_cookie_flags(app, client, login_as):
    login_as(make_user(app))
    cookie = client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"
