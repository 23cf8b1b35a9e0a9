"""The ranker page: the active version, its metrics, retraining, and activating or rolling back."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.brokers import bp
from marketplace.forms import ConfirmForm
from marketplace.models import Role
from marketplace.security import role_required
from marketplace.services import ServiceError
from marketplace.services.matching import ranker_versions, training
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
        trainings=training.recent_trainings(),
        form=ConfirmForm(),
    )


@bp.route("/ranker/train", methods=["POST"])
@role_required(Role.BROKER, Role.ADMIN)
def retrain():
    """Ask for a retraining in the background and follow it on its own page."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        job = training.request_training(current_user)
    except ServiceError as error:
        flash(str(error.message), "warning")
        running = training.unfinished_training()
        return redirect(
            url_for("brokers.training_status", job_id=running.id)
            if running
            else url_for("brokers.ranker")
        )
    flash(_("Retraining started: this page follows it."), "info")
    return redirect(url_for("brokers.training_status", job_id=job.id))


@bp.route("/ranker/trainings/<int:job_id>")
@role_required(Role.BROKER, Role.ADMIN)
def training_status(job_id):
    """Where a retraining stands: waiting, each step while it runs, then its result."""
    job = training.training_job(job_id)
    if job is None:
        abort(404)
    return render_template("brokers/training.html", job=job)


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
