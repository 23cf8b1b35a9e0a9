"""Investor pages."""
from flask import render_template
from flask_login import current_user

from marketplace.investors import bp
from marketplace.models import Role
from marketplace.security import role_required
from marketplace.services import stats


@bp.route("/")
@role_required(Role.INVESTOR)
def home():
    """The investor's products, counted by status, and the published needs to look at."""
    return render_template("investors/home.html",
                           data=stats.investor_home(current_user.organisation_id))
