"""Landing page, published-need summaries and /healthz."""
from flask import jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from marketplace.extensions import db, limiter
from marketplace.public import bp
from marketplace.services import stats


@bp.route("/")
def index():
    """Explain the platform and show the newest published needs in summary."""
    return render_template("public/index.html", figures=stats.platform_figures(),
                           needs=stats.latest_published_needs(limit=6))


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """200 with JSON when the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        return jsonify(status="unavailable", database="down", error=type(error).__name__), 503
    return jsonify(status="ok", database="up")
