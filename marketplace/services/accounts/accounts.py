"""Accounts: registration, sign-in, password changes and resets, profiles and staff creation."""

import secrets
from dataclasses import dataclass
from functools import cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from marketplace.extensions import db
from marketplace.links import external_url
from marketplace.mail import send_template
from marketplace.models import Hub, Organisation, OrgKind, Role, TokenPurpose, User, utcnow
from marketplace.services import ServiceError, transactional
from marketplace.services.accounts import throttle, tokens
from marketplace.services.accounts.audit import record
from marketplace.services.accounts.passwords import password_problem

SELF_SERVICE_ROLES = {Role.OWNER: OrgKind.SPONSOR, Role.INVESTOR: OrgKind.INVESTOR}


@dataclass(frozen=True)
class Registration:
    email: str
    password: str
    display_name: str
    role: Role
    organisation_name: str
    hub: Hub
    country_iso2: str
    locale: str = "en"


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == User.normalise_email(email)))


def register(data: Registration) -> User | None:
    """Create a project owner or investor account with its own organisation.

    A taken address gets the same answer as a new one (None instead of the user, which the view
    does not show): its owner is mailed a notice, so nobody learns which addresses have accounts.
    """
    if data.role not in SELF_SERVICE_ROLES:
        raise ServiceError(_l("Only project owners and investors can register themselves."), 403)
    existing = find_by_email(data.email)
    if existing:
        _waste_hash_time(data.password)  # as long as hashing the new account's password
        _mail_existing_account_notice(existing)
        record("user.registration_with_taken_email", target=existing)
        db.session.commit()
        return None
    organisation = Organisation(
        name=data.organisation_name.strip(),
        kind=SELF_SERVICE_ROLES[data.role],
        hub=data.hub,
        country_iso2=data.country_iso2,
    )
    user = _new_user(data.email, data.password, data.display_name, data.role, organisation)
    user.locale = data.locale
    record("user.registered", actor=user, target=user, role=str(data.role))
    _mail_confirmation_link(user)
    db.session.commit()
    return user


def send_confirmation(user: User) -> None:
    """Mail a new link to confirm the user's address; earlier links stop working."""
    if user.email_confirmed:
        raise ServiceError(_l("Your e-mail address is already confirmed."), 409)
    _mail_confirmation_link(user)
    db.session.commit()


def _mail_confirmation_link(user: User) -> None:
    _mail_token_link(
        user,
        TokenPurpose.EMAIL_CONFIRMATION,
        "EMAIL_CONFIRMATION_MAX_AGE",
        _l("Confirm your e-mail address"),
        "confirm_email",
        "auth.confirm_email",
    )


def _mail_token_link(user, purpose, max_age_setting, subject, template, endpoint) -> None:
    """Issue a single-use token and mail its link; the caller commits both together."""
    token = tokens.issue(user, purpose, current_app.config[max_age_setting])
    send_template(
        user.email,
        user.locale,
        subject,
        template,
        user=user,
        link=external_url(endpoint, token=token),
    )


def require_confirmed_email(user: User) -> None:
    """A listing goes out only under an address that was shown to reach its owner."""
    if not user.email_confirmed:
        raise ServiceError(
            _l(
                "Confirm your e-mail address first: open the link we sent you, "
                "or send the link again."
            ),
            403,
        )


def confirm_email(token: str) -> User | None:
    """Use a confirmation token: the user's address is confirmed. None for a bad link."""
    user = tokens.use(token, TokenPurpose.EMAIL_CONFIRMATION)
    if user is None:
        return None
    user.email_confirmed = True
    record("user.email_confirmed", actor=user, target=user)
    db.session.commit()
    return user


def _mail_existing_account_notice(user: User) -> None:
    send_template(
        user.email,
        user.locale,
        _l("Someone tried to register with your e-mail address"),
        "registration_with_taken_email",
        user=user,
        login_link=external_url("auth.login"),
        reset_link=external_url("auth.forgot_password"),
    )


@cache
def _dummy_hash() -> str:
    """A scrypt hash of nothing anyone knows, to spend the time a real check would."""
    return generate_password_hash(secrets.token_urlsafe(16), method="scrypt")


def _waste_hash_time(password: str) -> bool:
    """Check the password against the dummy hash; always False."""
    return check_password_hash(_dummy_hash(), password) and False


def _require_acceptable(password: str, email: str, name: str) -> None:
    """The password rule, also for callers without a form (`flask users create`)."""
    problem = password_problem(password, email, name)
    if problem:
        raise ServiceError(problem)


def _new_user(email, password, display_name, role, organisation) -> User:
    _require_acceptable(password, email, display_name)
    user = User(
        email=User.normalise_email(email),
        display_name=display_name.strip(),
        role=role,
        organisation=organisation,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str, address: str = "") -> User | None:
    """The user when email and password match an active account; None otherwise (no hint why).

    Refused with 429 while this client address is backing off from failures on this account.
    """
    wait = throttle.retry_after(email, address)
    if wait:
        raise ServiceError(_l("Too many failed attempts. Try again in %(n)d seconds.", n=wait), 429)
    user = find_by_email(email)
    # Unknown addresses cost one scrypt check too, so the answer's timing does not tell them apart.
    password_ok = user.check_password(password) if user else _waste_hash_time(password)
    if user is None or not password_ok or not user.active:
        record("auth.login_failed", actor=user, email=User.normalise_email(email))
        db.session.commit()
        throttle.record_failure(email, address)
        return None
    throttle.record_success(email, address)
    user.last_login_at = utcnow()
    record("auth.login", actor=user, target=user)
    db.session.commit()
    return user


def sign_out(user: User) -> None:
    """Rotate the session token so every copy of the session cookie stops working."""
    user.rotate_session_token()
    record("auth.logout", actor=user, target=user)
    db.session.commit()


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not user.check_password(current_password):
        raise ServiceError(_l("The current password is not correct."))
    _require_acceptable(new_password, user.email, user.display_name)
    user.set_password(new_password)
    tokens.revoke(user, TokenPurpose.PASSWORD_RESET)
    record("auth.password_changed", actor=user, target=user)
    db.session.commit()


def update_profile(user: User, display_name: str, locale: str) -> None:
    user.display_name = display_name.strip()
    user.locale = locale
    db.session.commit()


def set_locale(user: User, locale: str) -> None:
    user.locale = locale
    db.session.commit()


def mail_reset_link(user: User) -> None:
    """Mail a new single-use reset link; the token and the e-mail commit together."""
    _mail_token_link(
        user,
        TokenPurpose.PASSWORD_RESET,
        "PASSWORD_RESET_MAX_AGE",
        _l("Reset your password"),
        "reset_password",
        "auth.reset_password",
    )
    db.session.commit()


def user_for_reset_token(token: str) -> User | None:
    """The user of a usable reset token, without using it up (to show the form)."""
    row = tokens.find(token, TokenPurpose.PASSWORD_RESET)
    return row.user if row else None


@transactional
def reset_password(token: str, new_password: str) -> User:
    """Use the reset token and set the new password, in one transaction."""
    user = tokens.use(token, TokenPurpose.PASSWORD_RESET)
    if user is None:
        raise ServiceError(_l("This reset link is invalid or has expired. Ask for a new one."))
    _require_acceptable(new_password, user.email, user.display_name)
    user.set_password(new_password)
    record("auth.password_reset", actor=user, target=user)
    db.session.commit()
    return user


def create_staff_user(
    email: str,
    password: str,
    display_name: str,
    role: Role,
    organisation: Organisation,
    actor: User | None = None,
) -> User:
    """An admin (in the UI or `flask users create`) adds any kind of account."""
    if find_by_email(email):
        raise ServiceError(_l("An account with this email already exists."), 409)
    user = _new_user(email, password, display_name, role, organisation)
    # Staff accounts are set up by an admin who knows the person: no link to click.
    user.email_confirmed = role in (Role.BROKER, Role.ADMIN)
    record("user.created", actor=actor, target=user, role=str(role))
    db.session.commit()
    return user


def change_role(user: User, role: Role, actor: User) -> None:
    if user.id == actor.id:
        raise ServiceError(_l("You cannot change your own role."), 403)
    old = user.role
    user.role = role
    user.rotate_session_token()
    record("user.role_changed", actor=actor, target=user, old=str(old), new=str(role))
    db.session.commit()


def set_active(user: User, active: bool, actor: User) -> None:
    if user.id == actor.id:
        raise ServiceError(_l("You cannot deactivate your own account."), 403)
    user.active = active
    user.rotate_session_token()
    record("user.activated" if active else "user.deactivated", actor=actor, target=user)
    db.session.commit()
