"""The broker's workspace."""
from flask import Blueprint

bp = Blueprint("brokers", __name__)

from marketplace.brokers import routes  # noqa: E402,F401
