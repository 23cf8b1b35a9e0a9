"""Project owner pages."""
from flask import render_template
from flask_login import current_user

from marketplace.models import Role
from marketplace.owners import bp
from marketplace.security import role_required
from marketplace.services import stats


@bp.route("/")
@role_required(Role.OWNER)
def home():
    """The owner's needs, counted by status, and how many suggestions wait."""
    return render_template("owners/home.html", data=stats.owner_home(current_user.organisation_id))
