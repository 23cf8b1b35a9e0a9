"""Personal API keys on the profile page: shown once, stored as a digest, revoked by their owner
only, refused by every form without its CSRF token."""

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.extensions import db
from marketplace.models import ApiKey, AuditLog, Role, User, utcnow
from marketplace.services import ServiceError
from marketplace.services.accounts import api_keys
from tests.conftest import csrf_from, post_form
from tests.factories import PASSWORD, make_user

KEY_RE = re.compile(r'id="new-api-key">(gsr_[A-Za-z0-9_-]+)<')


def _create(client, name="Treasury desk", write=False):
    data = {"key-name": name, **({"key-write": "y"} if write else {})}
    return post_form(client, "/auth/profile/api-keys", data, page="/auth/profile")


def test_a_new_key_is_shown_once_and_only_its_digest_is_stored(app, client, login_as):
    user = make_user(app, role=Role.INVESTOR)
    login_as(user)
    response = _create(client, write=True)
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    plaintext = KEY_RE.search(response.get_data(as_text=True)).group(1)
    with app.app_context():
        [row] = db.session.scalars(db.select(ApiKey).where(ApiKey.user_id == user.id)).all()
        assert row.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
        assert plaintext not in (row.key_hash, row.name) and plaintext.startswith(row.prefix)
        assert row.scopes == "read write"
        assert db.session.scalar(db.select(AuditLog).where(AuditLog.action == "api_key.created"))
    page = client.get("/auth/profile").get_data(as_text=True)
    assert plaintext not in page and "Treasury desk" in page and row.prefix in page
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_bad_names_and_too_many_keys_are_refused_with_a_reason(app, client, login_as):
    user = make_user(app, role=Role.OWNER)
    login_as(user)
    empty = _create(client, name="   ")
    assert empty.status_code == 400 and "New key" in empty.get_data(as_text=True)
    with app.app_context():
        owner = db.session.get(User, user.id)
        for i in range(api_keys.MAX_ACTIVE_KEYS):
            api_keys.create_key(owner, f"key {i}", ["read"])
    too_many = _create(client, name="one more")
    assert too_many.status_code == 409
    assert "revoke one first" in too_many.get_data(as_text=True)
    with app.app_context():
        count = db.session.scalar(
            db.select(db.func.count()).select_from(ApiKey).where(ApiKey.user_id == user.id)
        )
        assert count == api_keys.MAX_ACTIVE_KEYS  # nothing half-written


def test_only_the_owner_revokes_a_key_and_it_stops_at_once(app, client, login_as):
    owner, stranger = make_user(app, role=Role.INVESTOR), make_user(app, role=Role.INVESTOR)
    with app.app_context():
        row, plaintext = api_keys.create_key(db.session.get(User, owner.id), "desk", ["read"])
        key_id = row.id
    headers = {"Authorization": f"Bearer {plaintext}"}
    login_as(stranger)
    page = client.get("/auth/profile").get_data(as_text=True)
    refused = client.post(
        f"/auth/profile/api-keys/{key_id}/revoke", data={"csrf_token": csrf_from(page)}
    )
    assert refused.status_code == 404
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    client = app.test_client()  # the owner's own browser
    signed_in = post_form(client, "/auth/login", {"email": owner.email, "password": PASSWORD})
    assert signed_in.status_code == 302
    page = client.get("/auth/profile").get_data(as_text=True)
    no_token = client.post(f"/auth/profile/api-keys/{key_id}/revoke")
    assert no_token.status_code == 400
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    done = client.post(
        f"/auth/profile/api-keys/{key_id}/revoke", data={"csrf_token": csrf_from(page)}
    )
    assert done.status_code == 302
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert "Revoked" in client.get("/auth/profile").get_data(as_text=True)


def test_creating_a_key_needs_the_forms_csrf_token(app, client, login_as):
    user = make_user(app, role=Role.OWNER)
    login_as(user)
    response = client.post("/auth/profile/api-keys", data={"key-name": "no token"})
    assert response.status_code == 400
    with app.app_context():
        assert not db.session.scalars(db.select(ApiKey).where(ApiKey.user_id == user.id)).all()


def test_use_is_recorded_at_most_once_a_minute(app):
    user = make_user(app, role=Role.INVESTOR)
    with app.app_context():
        row, plaintext = api_keys.create_key(db.session.get(User, user.id), "desk", ["read"])
        key = api_keys.authenticate(plaintext)
        first = utcnow()
        api_keys.record_use(key, now=first)
        api_keys.record_use(key, now=first + timedelta(seconds=30))
        assert db.session.get(ApiKey, row.id).last_used_at == first
        later = first + timedelta(seconds=61)
        api_keys.record_use(key, now=later)
        db.session.expire_all()
        assert db.session.get(ApiKey, row.id).last_used_at == later


def test_the_demo_key_is_made_once_and_reads_only(app):
    user = make_user(app, role=Role.INVESTOR)
    with app.app_context():
        investor = db.session.get(User, user.id)
        first = api_keys.ensure_demo_key(investor)
        again = api_keys.ensure_demo_key(investor)
        assert first.id == again.id
        key = api_keys.authenticate(api_keys.DEMO_API_KEY)
        assert key.has_scope("read") and not key.has_scope("write")


def test_a_revoked_demo_key_works_again_after_seeding_and_has_one_owner(app):
    """Anyone signed in as the demo investor may revoke the public key; the next seed restores
    it. It never becomes another account's key."""
    user, other = make_user(app, role=Role.INVESTOR), make_user(app, role=Role.INVESTOR)
    with app.app_context():
        investor = db.session.get(User, user.id)
        key_id = api_keys.ensure_demo_key(investor).id
        api_keys.revoke_key(investor, key_id)
        with pytest.raises(api_keys.ApiKeyError):
            api_keys.authenticate(api_keys.DEMO_API_KEY)
        assert api_keys.ensure_demo_key(investor).id == key_id
        assert api_keys.authenticate(api_keys.DEMO_API_KEY).id == key_id
        actions = db.session.scalars(db.select(AuditLog.action)).all()
        assert actions.count("api_key.restored") == 1
        with pytest.raises(ServiceError) as refused:
            api_keys.ensure_demo_key(db.session.get(User, other.id))
        assert refused.value.status == 409
        assert api_keys.authenticate(api_keys.DEMO_API_KEY).user_id == user.id


def test_a_key_that_may_write_also_reads():
    writer, reader = ApiKey(scopes="read write"), ApiKey(scopes="read")
    assert writer.has_scope("read") and writer.has_scope("write")
    assert reader.has_scope("read") and not reader.has_scope("write")
    assert ApiKey(scopes="write").has_scope("read")
    assert not writer.has_scope("admin") and not writer.has_scope("")


@pytest.mark.parametrize(
    ("name", "scopes"),
    [("", ["read"]), ("  ", ["read"]), ("x" * 81, ["read"]), ("ok", []), ("ok", ["write"]),
     ("ok", ["read", "admin"])],
)  # fmt: skip
def test_the_service_refuses_a_bad_name_or_scopes(app, name, scopes):
    user = make_user(app)
    with app.app_context(), pytest.raises(ServiceError) as refused:
        api_keys.create_key(db.session.get(User, user.id), name, scopes)
    assert refused.value.status == 400
    with app.app_context():
        assert not db.session.scalars(db.select(ApiKey)).all()


def test_keys_are_listed_newest_first_with_the_revoked_ones(app):
    user, other = make_user(app), make_user(app)
    with app.app_context():
        owner = db.session.get(User, user.id)
        first = api_keys.create_key(owner, "first", ["read"])[0].id
        second = api_keys.create_key(owner, "second", ["read"])[0].id
        api_keys.create_key(db.session.get(User, other.id), "someone else's", ["read"])
        api_keys.revoke_key(owner, first)
        listed = api_keys.keys_of(owner)
        assert [(key.id, key.active) for key in listed] == [(second, True), (first, False)]


def test_a_use_already_recorded_by_another_worker_is_not_written_again(app):
    user = make_user(app)
    with app.app_context():
        key_id = api_keys.create_key(db.session.get(User, user.id), "desk", ["read"])[0].id
        first = utcnow()
        api_keys.record_use(db.session.get(ApiKey, key_id), now=first)
    with app.app_context():
        key = db.session.get(ApiKey, key_id)
        set_committed_value(key, "last_used_at", None)  # read before the first use was noted
        api_keys.record_use(key, now=first + timedelta(seconds=10))
        db.session.expire_all()
        assert db.session.get(ApiKey, key_id).last_used_at == first


def test_the_key_stays_out_of_the_session_cookie_and_revoke_buttons_are_told_apart(
    app, client, login_as
):
    user = make_user(app, role=Role.INVESTOR)
    login_as(user)
    _create(client, name="Risk model")
    response = _create(client, name="Board pack")
    plaintext = KEY_RE.search(response.get_data(as_text=True)).group(1)
    session = app.session_interface.get_signing_serializer(app)
    assert plaintext not in repr(session.loads(client.get_cookie("session").value))
    page = client.get("/auth/profile").get_data(as_text=True)
    assert 'aria-label="Revoke the key Risk model"' in page
    assert 'aria-label="Revoke the key Board pack"' in page
    assert page.count('id="csrf_token"') <= 1  # one token field per form, not one id per row


def test_the_key_section_is_translated(app, client, login_as):
    user = make_user(app, role=Role.INVESTOR, locale="zh_Hant")
    with app.app_context():
        api_keys.create_key(db.session.get(User, user.id), "同步", ["read"])
    login_as(user)
    page = client.get("/auth/profile").get_data(as_text=True)
    assert "API 金鑰" in page and "撤銷金鑰 同步" in page
    assert ">Revoke<" not in page and "New key" not in page
