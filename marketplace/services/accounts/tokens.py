"""Opaque single-use tokens for mailed links: random, stored only as a SHA-256 hash, expiring.

Helpers of the accounts use-cases: they flush but never commit, so a token is issued or used in
the same transaction as what it is for.
"""

import secrets
from datetime import timedelta

from sqlalchemy import select, update

from marketplace.extensions import db
from marketplace.models import AccountToken, TokenPurpose, User, hash_token, utcnow


def issue(user: User, purpose: TokenPurpose, lifetime_seconds: int) -> str:
    """A new token for the user; earlier unused ones of the same purpose stop working."""
    revoke(user, purpose)
    token = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(token),
            expires_at=utcnow() + timedelta(seconds=lifetime_seconds),
        )
    )
    db.session.flush()
    return token


def find(token: str, purpose: TokenPurpose) -> AccountToken | None:
    """The unused, unexpired token row for this purpose whose user is active, or None."""
    row = db.session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == hash_token(token or ""), AccountToken.purpose == purpose
        )
    )
    if row is None or not row.is_usable(utcnow()) or not row.user.active:
        return None
    return row


def use(token: str, purpose: TokenPurpose) -> User | None:
    """Mark the token used and return its user; None if it is unknown, expired or already used.

    The conditional UPDATE makes two simultaneous uses of one link succeed at most once.
    """
    row = find(token, purpose)
    if row is None:
        return None
    used = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == row.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return row.user if used.rowcount == 1 else None


def revoke(user: User, purpose: TokenPurpose) -> None:
    """Every unused token of this purpose stops working (a new one, or the password changed)."""
    db.session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
