"""Matches, introductions, interests and conversations, for the parties and their brokers."""

from flask import Blueprint

bp = Blueprint("deals", __name__)

from marketplace.deals import routes  # noqa: E402,F401
