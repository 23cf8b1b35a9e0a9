"""Broker pages: home, organisation verification and publishing submitted needs."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.brokers import bp
from marketplace.extensions import db
from marketplace.forms import ConfirmForm, VerificationForm
from marketplace.models import FinancingNeed, NeedStatus, Organisation, Role, VerificationStatus
from marketplace.security import get_or_404, role_required
from marketplace.services import ServiceError
from marketplace.services.accounts import organisations
from marketplace.services.insights import stats
from marketplace.services.listings import listings


@bp.route("/")
@role_required(Role.BROKER, Role.ADMIN)
def home():
    """Queue sizes, the deal counts and organisations waiting for verification."""
    return render_template("brokers/home.html", data=stats.broker_home())


@bp.route("/organisations")
@role_required(Role.BROKER, Role.ADMIN)
def organisations_list():
    """Every organisation, filterable by verification status."""
    status = request.args.get("status")
    query = select(Organisation).order_by(Organisation.name)
    if status in {s.value for s in VerificationStatus}:
        query = query.where(Organisation.verification_status == status)
    return render_template(
        "brokers/organisations.html", organisations=db.session.scalars(query).all(), status=status
    )


@bp.route("/organisations/<int:org_id>", methods=["GET", "POST"])
@role_required(Role.BROKER, Role.ADMIN)
def organisation_detail(org_id):
    """One organisation, its people, and the verification decision."""
    organisation = get_or_404(Organisation, org_id)
    form = VerificationForm()
    if form.validate_on_submit():
        try:
            organisations.decide_verification(
                organisation, VerificationStatus(form.decision.data), form.reason.data, current_user
            )
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Verification decision recorded."), "success")
            return redirect(url_for("brokers.organisation_detail", org_id=org_id))
    return render_template(
        "brokers/organisation.html", organisation=organisation, form=form, reopen_form=ConfirmForm()
    )


@bp.route("/organisations/<int:org_id>/reopen", methods=["POST"])
@role_required(Role.BROKER, Role.ADMIN)
def reopen_organisation(org_id):
    """Put a rejected organisation back in the verification queue (audited)."""
    organisation = get_or_404(Organisation, org_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        organisations.reopen_verification(organisation, current_user)
    except ServiceError as error:
        flash(str(error.message), "danger")
    else:
        flash(_("Verification reopened: the organisation is pending again."), "success")
    return redirect(url_for("brokers.organisation_detail", org_id=org_id))


@bp.route("/needs")
@role_required(Role.BROKER, Role.ADMIN)
def needs_to_review():
    """Submitted needs waiting for a broker to publish them, oldest first."""
    needs = db.session.scalars(
        select(FinancingNeed)
        .where(FinancingNeed.status == NeedStatus.SUBMITTED)
        .order_by(FinancingNeed.submitted_at)
    ).all()
    return render_template("brokers/needs.html", needs=needs, form=ConfirmForm())


@bp.route("/needs/<int:need_id>/<any(publish, return_to_draft):action>", methods=["POST"])
@role_required(Role.BROKER, Role.ADMIN)
def need_decision(need_id, action):
    """Publish a submitted need, or send it back to its owner as a draft."""
    need = get_or_404(FinancingNeed, need_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        listings.transition_need(need, action, current_user)
    except ServiceError as error:
        flash(str(error.message), "danger")
    else:
        flash(
            _("Need published.") if action == "publish" else _("Need returned to its owner."),
            "success",
        )
    return redirect(url_for("brokers.needs_to_review"))


@bp.route("/needs/<int:need_id>/taxonomy-claim", methods=["POST"])
@role_required(Role.BROKER, Role.ADMIN)
def taxonomy_claim(need_id):
    """Verify or reject the taxonomy claim of a need, with a reason."""
    need = get_or_404(FinancingNeed, need_id)
    form = VerificationForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "danger")
    else:
        try:
            organisations.decide_taxonomy_claim(
                need, VerificationStatus(form.decision.data), form.reason.data, current_user
            )
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Taxonomy claim decision recorded."), "success")
    return redirect(url_for("public.need_detail", need_id=need_id))
