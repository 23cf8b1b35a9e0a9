"""The ranker page: the active version, its metrics, retraining, and activating or rolling back."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.brokers import bp
from marketplace.forms import ConfirmForm
from marketplace.models import Role
from marketplace.security import role_required
from marketplace.services import ServiceError
from marketplace.services.matching import ranker_versions
from marketplace.services.matching.ranker import active_version


@bp.route("/ranker")
@role_required(Role.BROKER, Role.ADMIN)
def ranker():
    """Which model serves, how it scored against the baselines, and every version trained."""
    return render_template(
        "brokers/ranker.html",
        active=active_version(),
        versions=ranker_versions.versions(),
        decisions=len(ranker_versions.decisions()),
        form=ConfirmForm(),
    )


@bp.route("/ranker/train", methods=["POST"])
@role_required(Role.BROKER, Role.ADMIN)
def retrain():
    """Retrain now, with the same code as `flask ranker train`."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    summary = ranker_versions.train(actor=current_user)
    if not summary["saved"]:
        flash(
            _("No model trained: the decisions need both accepted and rejected examples."),
            "warning",
        )
    elif summary["activated"]:
        flash(_("Version %(v)s trained and activated.", v=summary["version"]), "success")
    else:
        flash(
            _(
                "Version %(v)s trained but kept inactive: it scored worse than the active one.",
                v=summary["version"],
            ),
            "info",
        )
    return redirect(url_for("brokers.ranker"))


@bp.route("/ranker/<int:version_id>/activate", methods=["POST"])
@role_required(Role.BROKER, Role.ADMIN)
def activate_version(version_id):
    """Serve this version (activate a new one or roll back to an older one)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        version = ranker_versions.activate(version_id, current_user)
    except ServiceError as error:
        flash(str(error.message), "danger")
    else:
        flash(_("Version %(v)s is now active.", v=version.version), "success")
    return redirect(url_for("brokers.ranker"))
