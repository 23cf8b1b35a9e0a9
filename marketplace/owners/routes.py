"""Project owner pages: the home page and the financing-need workflow."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.forms import ConfirmForm, DocumentForm
from marketplace.models import Document, FinancingNeed, Role
from marketplace.owners import bp
from marketplace.owners.forms import NeedForm
from marketplace.security import get_owned_or_404, role_required
from marketplace.services import ServiceError
from marketplace.services.deals import documents
from marketplace.services.insights import stats
from marketplace.services.listings import listings

OWNER_ACTIONS = {"submit": "submit", "withdraw": "withdraw"}


@bp.route("/")
@role_required(Role.OWNER)
def home():
    """The owner's needs, counted by status, and how many suggestions wait."""
    return render_template("owners/home.html", data=stats.owner_home(current_user.organisation_id))


@bp.route("/needs/new", methods=["GET", "POST"])
@role_required(Role.OWNER)
def new_need():
    """Draft a new financing need."""
    form = NeedForm()
    if form.validate_on_submit():
        try:
            need = listings.create_need(current_user, form.to_input())
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Draft saved. Submit it when it is ready for review."), "success")
            return redirect(url_for("public.need_detail", need_id=need.id))
    return render_template("owners/need_form.html", form=form, need=None)


@bp.route("/needs/<int:need_id>/edit", methods=["GET", "POST"])
@role_required(Role.OWNER)
def edit_need(need_id):
    """Change a need while it is a draft, submitted or published."""
    need = get_owned_or_404(FinancingNeed, need_id, staff_may=False)
    form = NeedForm(obj=need)
    form.fill_from(need)
    if form.validate_on_submit():
        try:
            edit = listings.update_need(need, form.to_input(), current_user)
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            _flash_edit(edit, form)
            return redirect(url_for("public.need_detail", need_id=need.id))
    material = [str(form[name].label.text) for name in listings.MATERIAL_NEED_FIELDS]
    return render_template("owners/need_form.html", form=form, need=need, material=material)


def _flash_edit(edit: listings.NeedEdit, form: NeedForm) -> None:
    """Say what the edit cost: a new review, a new verification of the taxonomy claim."""
    fields = ", ".join(str(form[name].label.text) for name in edit.material_changes)
    if edit.back_to_review:
        flash(
            _(
                "Changes saved. Because you changed %(fields)s, the need went back to a broker "
                "for review and is off the public listings until it is published again.",
                fields=fields,
            ),
            "warning",
        )
    else:
        flash(_("Changes saved."), "success")
    if edit.claim_reset:
        flash(_("The taxonomy claim must be verified again by a broker."), "warning")


@bp.route("/needs/<int:need_id>/<any(submit, withdraw):action>", methods=["POST"])
@role_required(Role.OWNER)
def need_action(need_id, action):
    """Submit a draft for review, or withdraw a need."""
    need = get_owned_or_404(FinancingNeed, need_id, staff_may=False)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        listings.transition_need(need, OWNER_ACTIONS[action], current_user)
    except ServiceError as error:
        flash(str(error.message), "danger")
    else:
        flash(_("Submitted for review.") if action == "submit" else _("Need withdrawn."), "success")
    return redirect(url_for("public.need_detail", need_id=need.id))


@bp.route("/needs/<int:need_id>/documents", methods=["POST"])
@role_required(Role.OWNER)
def upload_document(need_id):
    """Attach a PDF, XLSX or DOCX to one of the owner's needs."""
    need = get_owned_or_404(FinancingNeed, need_id, staff_may=False)
    form = DocumentForm()
    if form.validate_on_submit():
        upload = form.document.data
        try:
            documents.attach_to_need(need, upload.filename, upload.read(), current_user)
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Document uploaded."), "success")
    else:
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "danger")
    return redirect(url_for("public.need_detail", need_id=need.id))


@bp.route("/documents/<int:document_id>/delete", methods=["POST"])
@role_required(Role.OWNER)
def delete_document(document_id):
    """Remove a document from one of the owner's needs."""
    document = get_owned_or_404(Document, document_id, staff_may=False)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    need_id = document.need_id
    documents.delete_document(document, current_user)
    flash(_("Document deleted."), "success")
    return redirect(url_for("public.need_detail", need_id=need_id))
