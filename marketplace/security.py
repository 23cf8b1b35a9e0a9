"""Access control helpers, the login loader, safe redirects and security headers."""

import re
import time
from functools import wraps
from urllib.parse import unquote, urlencode, urlsplit

from flask import Flask, abort, current_app, flash, request, session
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, logout_user, user_logged_in, user_logged_out
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from marketplace.extensions import db
from marketplace.models import Role, User
from marketplace.parsing import MAX_RECORD_ID


def configure_login(login_manager: LoginManager) -> None:
    """Load users by their rotating session token, so logout and password changes end sessions."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        # With the second factor in the same query: staff pages check it on every request.
        query = select(User).options(joinedload(User.mfa_credential))
        return db.session.scalar(query.where(User.session_token == token))


def role_required(*roles: Role):
    """Let through signed-in users with one of these roles; 403 for other roles."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def get_or_404(model, ident):
    """Load a record by primary key or answer 404."""
    record = db.session.get(model, ident)
    if record is None:
        abort(404)
    return record


def get_owned_or_404(model, ident, *, staff_may: bool = True):
    """Load a record of the user's own organisation; 404 when absent, 403 when someone else's."""
    record = get_or_404(model, ident)
    if staff_may and current_user.role in (Role.BROKER, Role.ADMIN):
        return record
    if record.organisation_id != current_user.organisation_id:
        abort(403)
    return record


# Characters a browser strips or rewrites before resolving a URL ("/\tevil" becomes "//evil").
_UNSAFE_IN_NEXT = re.compile(r"[\x00-\x20\x7f\\]")


def is_safe_next(target: str | None) -> bool:
    """True only for a path on this site: one leading slash, no scheme, no host, no backslash,
    no whitespace or control characters, before or after percent-decoding."""
    if not target:
        return False
    for form in (target, unquote(target)):
        if not form.startswith("/") or form.startswith("//") or _UNSAFE_IN_NEXT.search(form):
            return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def current_location() -> str:
    """This page's path and query, re-encoded from the parsed arguments (safe as a `next`).

    `request.full_path` decodes the raw query string as UTF-8 and fails on other bytes.
    """
    try:
        query = urlencode(list(request.args.items(multi=True)))
    except UnicodeDecodeError:  # refused with a 400 (below); its error page still renders
        return request.path
    return f"{request.path}?{query}" if query else request.path


class RecordIdConverter(IntegerConverter):
    """`<int:…>` in a URL: only ids a database integer column can hold (larger ones are a 404)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_RECORD_ID, signed=False):
        super().__init__(url_map, fixed_digits, min, max, signed)


def register_url_converters(app: Flask) -> None:
    """Before any blueprint: its rules are compiled with the converters registered now."""
    app.url_map.converters["int"] = RecordIdConverter


def _has_nul(request_values) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in request_values)


def register_request_checks(app: Flask) -> None:
    """Refuse, with a 400 before any view reads them, what no database can store or compare.

    Werkzeug decodes `request.args` strictly, so raw bytes such as 0xFF sent by a hand-made
    client would fail inside whatever view or template reads a parameter first; PostgreSQL
    refuses a NUL character in any text parameter, so one in a query or form would be a 500.
    """

    @app.before_request
    def require_clean_input():
        try:
            request.query_string.decode("utf-8")
        except UnicodeDecodeError:
            abort(400, description=_l("The address contains characters that are not valid."))
        uploads = [("", upload.filename or "") for upload in request.files.values()]
        if "\x00" in request.path or _has_nul(request.args.items(multi=True)):
            abort(400, description=_l("The address contains characters that are not valid."))
        if _has_nul(request.form.items(multi=True)) or _has_nul(uploads):
            abort(400, description=_l("The form contains characters that are not valid."))


_SESSION_STAMPS = ("signed_in_at", "seen_at")
# `seen_at` is rewritten at most this often (seconds): a session cookie written on every request
# costs signing and a Set-Cookie per page; the idle timeout stays exact to within this interval.
SEEN_STAMP_INTERVAL = 60


def register_session_lifetimes(app: Flask) -> None:
    """End signed-in sessions after idle time (shorter for staff) and an absolute lifetime."""

    @user_logged_in.connect_via(app)
    def stamp_sign_in(sender, user, **extra):
        now = time.time()
        # A password change signs in again: the absolute lifetime still counts from the first.
        session.setdefault("signed_in_at", now)
        session["seen_at"] = now

    @user_logged_out.connect_via(app)
    def clear_stamps(sender, user, **extra):
        for key in _SESSION_STAMPS:
            session.pop(key, None)

    @app.before_request
    def expire_session():
        if not current_user.is_authenticated:
            return
        now = time.time()
        if session_expired(current_user, session, now, app.config):
            logout_user()
            flash(_l("Your session has expired. Please sign in again."), "info")
            return
        if now - session["seen_at"] >= SEEN_STAMP_INTERVAL:
            session["seen_at"] = now


def session_expired(user, stamps, now: float, config) -> bool:
    """True when the session was idle too long for the user's role or is simply too old."""
    signed_in_at, seen_at = stamps.get("signed_in_at"), stamps.get("seen_at")
    if signed_in_at is None or seen_at is None:
        return True  # a cookie from before lifetimes were tracked
    staff = user.role in (Role.BROKER, Role.ADMIN)
    idle = config["SESSION_IDLE_TIMEOUT_STAFF"] if staff else config["SESSION_IDLE_TIMEOUT"]
    return now - seen_at > idle or now - signed_in_at > config["SESSION_ABSOLUTE_LIFETIME"]


def register_security_headers(app: Flask) -> None:
    """Headers that keep the site out of frames and stop content sniffing."""

    @app.after_request
    def set_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response


def register_proxy_fix(app: Flask) -> None:
    """Behind PROXY_COUNT reverse proxies, take the client address and scheme from their headers.

    Only the last PROXY_COUNT values are trusted (those our own proxies appended); without proxies
    nothing is, so a client cannot claim another address to dodge the sign-in limits.
    """
    count = app.config.get("PROXY_COUNT", 0)
    if count:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count
        )
