"""Sign-up, sign-in (with a second factor), password reset, profile and language."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from marketplace.auth import api_key_routes, mfa_routes, routes  # noqa: E402,F401
