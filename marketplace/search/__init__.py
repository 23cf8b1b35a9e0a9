"""Faceted search of financing needs and products, and saved searches."""

from flask import Blueprint

bp = Blueprint("search", __name__)

from marketplace.search import routes  # noqa: E402,F401
