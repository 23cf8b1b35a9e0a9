"""Multi-factor authentication: TOTP enrolment, the second step of sign-in, recovery codes, and
turning it off (by the user) or resetting it (by an admin).

Every code is accepted once: a TOTP code only when its time step is newer than the last one
accepted, a recovery code only while it is unused. Both are claimed with a conditional UPDATE, so
two requests racing with the same code (on different workers) cannot both win.
"""

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from marketplace.extensions import db
from marketplace.models import MfaCredential, RecoveryCode, Role, User, utcnow
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts.audit import record

STAFF_ROLES = (Role.BROKER, Role.ADMIN)
RECOVERY_CODE_COUNT = 10
# 12 characters from 31 that cannot be mistaken for each other: about 59 bits per code.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 12
# Scrypt like passwords, with a lighter cost: a random 59-bit code needs no memory-hard
# stretching against guessing, and a sign-in may check all ten hashes.
_RECOVERY_HASH = "scrypt:4096:8:1"
_TOTP_CODE = re.compile(r"[0-9]{6}")
ENROLMENT_KEEPS_SECRET = timedelta(hours=1)
WRONG_CODE = _l("The code is not correct or has already been used.")


@dataclass(frozen=True)
class Enrolment:
    """What the authenticator app needs: the secret, and the same as an otpauth:// URI."""

    secret: str
    uri: str


@dataclass(frozen=True)
class Status:
    """What the settings page shows: on or off, since when, how many recovery codes are left."""

    enabled: bool
    required: bool
    since: datetime | None = None
    unused_recovery_codes: int = 0


def credential_of(user: User) -> MfaCredential | None:
    return db.session.get(MfaCredential, user.id)


def is_enabled(user: User) -> bool:
    credential = credential_of(user)
    return credential is not None and credential.is_enabled


def required_for(user: User) -> bool:
    """Brokers and admins need a second factor when MFA_REQUIRED_FOR_STAFF is on."""
    return bool(current_app.config.get("MFA_REQUIRED_FOR_STAFF")) and user.role in STAFF_ROLES


def must_enrol(user: User) -> bool:
    """True for a signed-in user who may see no page before setting up the second factor."""
    return required_for(user) and not is_enabled(user)


def user_for_second_step(user_id) -> User | None:
    """The user a pending sign-in belongs to, while the account is active and has MFA on."""
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or not is_enabled(user):
        return None
    return user


def status(user: User) -> Status:
    credential = credential_of(user)
    if credential is None or not credential.is_enabled:
        return Status(enabled=False, required=required_for(user))
    unused = db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    return Status(True, required_for(user), credential.confirmed_at, unused)


@transactional
def start_enrolment(user: User) -> Enrolment:
    """The secret to scan; the same one until it is confirmed, so a reload keeps the QR code."""
    credential = credential_of(user)
    if credential is not None and credential.is_enabled:
        raise ServiceError(_l("Two-factor authentication is already on for this account."), 409)
    if credential is None:
        credential = MfaCredential(user_id=user.id)
        db.session.add(credential)
    if credential.secret is None or credential.created_at < utcnow() - ENROLMENT_KEEPS_SECRET:
        # A key shown long ago may have been seen by someone else: an unfinished set-up restarts.
        credential.secret, credential.created_at = pyotp.random_base32(), utcnow()
        try:
            db.session.commit()
        except IntegrityError:  # the same page opened twice at once: show the other one's key
            db.session.rollback()
            credential = credential_of(user)
    totp = pyotp.TOTP(credential.secret)
    uri = totp.provisioning_uri(name=user.email, issuer_name=current_app.config["MFA_ISSUER"])
    return Enrolment(secret=credential.secret, uri=uri)


@transactional
def confirm_enrolment(user: User, code: str) -> list[str]:
    """Turn MFA on with a code from the app; returns the recovery codes, shown only this once.

    Other sessions of the user end: one opened with the password alone is not kept.
    """
    credential = credential_of(user)
    if credential is None or credential.is_enabled:
        raise ServiceError(_l("Start the set-up again from your profile page."), 409)
    if not _accept_totp(credential, code):
        raise ServiceError(WRONG_CODE)
    credential.confirmed_at = utcnow()
    codes = _replace_recovery_codes(user)
    user.rotate_session_token()
    record("auth.mfa_enabled", actor=user, target=user)
    db.session.commit()
    return codes


@transactional
def verify_second_step(user: User, code: str) -> bool:
    """Check the code of a pending sign-in (authenticator or recovery code) and audit it."""
    method = _accept_any(user, code)
    if method is None:
        record("auth.mfa_failed", actor=user, target=user)
    else:
        record("auth.mfa_passed", actor=user, target=user, method=method)
    db.session.commit()
    return method is not None


@transactional
def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    """New recovery codes after a code from the app (or an unused recovery code); old ones die."""
    if not is_enabled(user):
        raise ServiceError(_l("Two-factor authentication is not on for this account."), 409)
    _require_code(user, code)
    codes = _replace_recovery_codes(user)
    record("auth.mfa_recovery_codes_replaced", actor=user, target=user)
    db.session.commit()
    return codes


@transactional
def disable(user: User, password: str, code: str) -> None:
    """The user turns MFA off with the password and a code; every other session ends."""
    if not is_enabled(user):
        raise ServiceError(_l("Two-factor authentication is not on for this account."), 409)
    if not user.check_password(password):
        raise ServiceError(_l("The current password is not correct."))
    _require_code(user, code)
    _remove(user)
    record("auth.mfa_disabled", actor=user, target=user)
    db.session.commit()


@transactional
def reset(user: User, actor: User) -> None:
    """An admin removes someone's second factor (a lost phone); all their sessions end."""
    if user.id == actor.id:
        raise ServiceError(
            _l("You cannot reset your own two-factor authentication; use your profile page."), 403
        )
    if credential_of(user) is None:
        raise ServiceError(_l("Two-factor authentication is not on for this account."), 409)
    _remove(user)
    record("auth.mfa_reset", actor=actor, target=user)
    db.session.commit()


def _remove(user: User) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.delete(credential_of(user))
    user.rotate_session_token()


def _require_code(user: User, code: str) -> None:
    """Use up a good code, or audit the failure and refuse."""
    if _accept_any(user, code) is None:
        record("auth.mfa_failed", actor=user, target=user)
        db.session.commit()
        raise ServiceError(WRONG_CODE)


def _accept_any(user: User, code: str) -> str | None:
    """'totp' or 'recovery' when the code is good and now used up; None otherwise."""
    credential = credential_of(user)
    if credential is None or not credential.is_enabled:
        return None
    if _accept_totp(credential, code):
        return "totp"
    if _accept_recovery_code(user, code):
        return "recovery"
    return None


def _accept_totp(credential: MfaCredential, code: str) -> bool:
    code = re.sub(r"\s", "", code or "")
    if not _TOTP_CODE.fullmatch(code):
        return False
    totp = pyotp.TOTP(credential.secret)
    now = totp.timecode(utcnow())
    # One step (30 s) either side for the phone's clock, never a step already used.
    for step in (now - 1, now, now + 1):
        if credential.last_used_step is not None and step <= credential.last_used_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return _claim_step(credential, step)
    return False


def _claim_step(credential: MfaCredential, step: int) -> bool:
    claimed = db.session.execute(
        update(MfaCredential)
        .where(
            MfaCredential.user_id == credential.user_id,
            or_(MfaCredential.last_used_step.is_(None), MfaCredential.last_used_step < step),
        )
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(credential)
    return claimed.rowcount == 1


def _accept_recovery_code(user: User, code: str) -> bool:
    code = normalise_recovery_code(code)
    if len(code) != _RECOVERY_LENGTH:
        return False
    unused = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    for row in unused:
        if check_password_hash(row.code_hash, code):
            claimed = db.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return claimed.rowcount == 1
    return False


def normalise_recovery_code(code: str) -> str:
    """Lower case without spaces or dashes, so 'ABCD-EFGH-JKMN' and 'abcdefghjkmn' match."""
    return re.sub(r"[\s-]", "", code or "").lower()


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=generate_password_hash(code, _RECOVERY_HASH))
        for code in codes
    )
    return ["-".join(code[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)) for code in codes]
