"""The broker's workspace."""

from flask import Blueprint

bp = Blueprint("brokers", __name__)

from marketplace.brokers import deal_routes, ranker_routes, routes  # noqa: E402,F401
