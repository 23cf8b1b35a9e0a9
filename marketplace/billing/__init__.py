"""Payment pages: history and receipts, listing fees, memberships, and staff oversight."""

from flask import Blueprint

bp = Blueprint("billing", __name__)

from marketplace.billing import routes, staff_routes  # noqa: E402,F401
