"""The investor's workspace."""

from flask import Blueprint

bp = Blueprint("investors", __name__)

from marketplace.investors import routes, track_routes  # noqa: E402,F401
