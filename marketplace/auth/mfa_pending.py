"""The half-way state of a sign-in that waits for its second factor.

After the right password a user with MFA is not signed in yet: the (signed) session holds only a
marker with their id, where to go afterwards and when the marker expires. Nothing else of the
account is reachable until the code is accepted and `login_user` runs.
"""

import time

from flask import redirect, session, url_for

from marketplace.models import User
from marketplace.services.accounts import mfa

PENDING_KEY = "mfa_pending"
PENDING_SECONDS = 300


def needed(user: User) -> bool:
    """True when the password is not enough to sign this user in."""
    return mfa.is_enabled(user)


def start(user: User, next_target: str | None):
    """Remember the half-done sign-in and ask for the code."""
    session[PENDING_KEY] = {
        "uid": user.id,
        "next": next_target or "",
        "until": int(time.time()) + PENDING_SECONDS,
    }
    session["locale"] = user.locale  # the code page in the user's own language
    return redirect(url_for("auth.mfa_verify"))


def user_id() -> int | None:
    """The id of the pending sign-in, while its marker has not expired."""
    marker = session.get(PENDING_KEY)
    if not isinstance(marker, dict) or not isinstance(marker.get("until"), int):
        return None
    if marker["until"] < time.time():
        return None
    return marker.get("uid")


def pending_user() -> User | None:
    return mfa.user_for_second_step(user_id())


def next_target() -> str:
    marker = session.get(PENDING_KEY)
    return marker.get("next", "") if isinstance(marker, dict) else ""


def clear() -> None:
    session.pop(PENDING_KEY, None)
