"""Pages anyone can see, and the load balancer's health check."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from marketplace.public import routes  # noqa: E402,F401
