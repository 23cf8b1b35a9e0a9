"""The project owner's workspace."""

from flask import Blueprint

bp = Blueprint("owners", __name__)

from marketplace.owners import routes  # noqa: E402,F401
