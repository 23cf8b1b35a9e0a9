"""Administration: users and organisations."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from marketplace.admin import routes  # noqa: E402,F401
