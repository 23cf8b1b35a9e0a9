"""Personal API keys: created on the profile page and shown once, stored as a SHA-256 digest,
revoked at will; every API request is authenticated by one (marketplace/api/auth.py).

A key acts with its user's rights, and its scopes decide whether it may change anything. It stops
working at once when revoked or when its user is deactivated: both are read on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.extensions import db
from marketplace.models import ApiKey, User, utcnow
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.audit import record

KEY_PREFIX = "gsr_"
# A public demo credential, like the demo passwords: `make run` prints it (read-only key).
DEMO_API_KEY = "gsr_demo_investor_read_only_9f3c2a7e5b1d4c8a"
SCOPES = ("read", "write")
MAX_ACTIVE_KEYS = 10
SHOWN_PREFIX = 12  # characters of a key kept in clear, to tell keys apart
# A busy key records its use at most this often, so reading does not write on every request.
USE_RECORDED_EVERY = timedelta(seconds=60)

_MESSAGES = {
    "missing": _l("Send your API key in the header Authorization: Bearer <key>."),
    "invalid": _l("This API key is not valid."),
    "revoked": _l("This API key has been revoked."),
    "inactive-user": _l("The account this API key belongs to has been deactivated."),
}


class ApiKeyError(ServiceError):
    """A request's key cannot be used; `kind` says why: missing, invalid, revoked or
    inactive-user."""

    def __init__(self, kind: str):
        super().__init__(_MESSAGES[kind], 401)
        self.kind = kind


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@transactional
def create_key(user: User, name: str, scopes: Iterable[str]) -> tuple[ApiKey, str]:
    """A new key for the user and its plaintext, which is shown once and never stored."""
    name, wanted = (name or "").strip(), set(scopes)
    if not 1 <= len(name) <= 80:
        raise ServiceError(_l("Give the key a name of 1 to 80 characters."), 400)
    if "read" not in wanted or not wanted <= set(SCOPES):
        raise ServiceError(_l("A key reads; it may also be allowed to make changes."), 400)
    _lock(user)
    if _active_count(user) >= MAX_ACTIVE_KEYS:
        message = _l("You have %(count)d active keys; revoke one first.", count=MAX_ACTIVE_KEYS)
        raise ServiceError(message, 409)
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    key = _add(user, name, plaintext, wanted)
    db.session.commit()
    return key, plaintext


def _lock(user: User) -> None:
    """Two keys made at once by one user are counted one after the other (PostgreSQL)."""
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())


def _active_count(user: User) -> int:
    where = (ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
    return db.session.scalar(select(func.count()).select_from(ApiKey).where(*where))


def _add(user: User, name: str, plaintext: str, scopes: set[str]) -> ApiKey:
    key = ApiKey(
        user_id=user.id,
        name=name,
        prefix=plaintext[:SHOWN_PREFIX],
        key_hash=digest(plaintext),
        scopes=" ".join(scope for scope in SCOPES if scope in scopes),
    )
    db.session.add(key)
    db.session.flush()
    record("api_key.created", actor=user, target=key, name=name, scopes=key.scopes)
    return key


@transactional
def revoke_key(user: User, key_id: int) -> ApiKey:
    """Revoke one of the user's own keys (another user's: 404); revoking twice is harmless."""
    key = db.session.get(ApiKey, key_id)
    if key is None or key.user_id != user.id:
        raise ServiceError(_l("No such key."), 404)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        record("api_key.revoked", actor=user, target=key, name=key.name)
    db.session.commit()
    return key


def keys_of(user: User) -> list[ApiKey]:
    """The user's keys, newest first, revoked ones included."""
    query = select(ApiKey).where(ApiKey.user_id == user.id)
    return list(db.session.scalars(query.order_by(ApiKey.created_at.desc(), ApiKey.id.desc())))


def authenticate(token: str | None) -> ApiKey:
    """The key a request sent, if it may be used now; ApiKeyError otherwise. Reads only."""
    if not token:
        raise ApiKeyError("missing")
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == digest(token)))
    if key is None:
        raise ApiKeyError("invalid")
    if key.revoked_at is not None:
        raise ApiKeyError("revoked")
    if not key.user.active:
        raise ApiKeyError("inactive-user")
    return key


def record_use(key: ApiKey, now: datetime | None = None) -> None:
    """Note when the key was last used, at most once every USE_RECORDED_EVERY (own commit)."""
    now = now or utcnow()
    if key.last_used_at is not None and now - key.last_used_at < USE_RECORDED_EVERY:
        return
    stale = (ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < now - USE_RECORDED_EVERY)
    db.session.execute(
        update(ApiKey).where(ApiKey.id == key.id, stale).values(last_used_at=now),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    set_committed_value(key, "last_used_at", now)


@transactional
def ensure_demo_key(user: User) -> ApiKey:
    """The demo investor's read-only key, whose plaintext is DEMO_API_KEY (created once).

    Anyone signed in as the demo investor may revoke it: seeding again makes it work again.
    """
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == digest(DEMO_API_KEY)))
    if key is None:
        key = _add(user, "Demo key", DEMO_API_KEY, {"read"})
    elif key.user_id != user.id:
        raise ServiceError(_l("The demo API key belongs to another account."), 409)
    elif key.revoked_at is not None:
        key.revoked_at = None
        record("api_key.restored", actor=user, target=key, name=key.name)
    db.session.commit()
    return key
