"""Who is calling: the personal API key every operation but the documentation's needs."""

from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _

from marketplace.api import bp
from marketplace.errors import problem_response
from marketplace.services.accounts import api_keys

PUBLIC_ENDPOINTS = {"api.openapi_json", "api.reference", "api.problem_type"}
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


@bp.before_request
def authenticate():
    """Answer 401 without a valid key and 403 when its scopes do not allow the method; else the
    key's user is the request's user (no session: a browser's cookie plays no part)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    try:
        key = api_keys.authenticate(bearer_token())
    except api_keys.ApiKeyError as error:
        response = problem_response(
            401, _("Authentication required"), error.message, slug=f"{error.kind}-key"
        )
        challenge = 'Bearer realm="api"'
        if error.kind != "missing":
            challenge += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = challenge
        return response
    g._login_user = key.user  # where Flask-Login keeps the request's user
    g.api_key = key
    needed = "read" if request.method in READ_METHODS else "write"
    if not key.has_scope(needed):
        detail = _("This key may only read. Create a key that allows changes on your profile.")
        return problem_response(403, _("Not allowed"), detail, slug="insufficient-scope")
    api_keys.record_use(key)
    return None
