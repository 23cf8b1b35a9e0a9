"""The organisation's track record: earlier deals, by hand or from a file; read-only for staff."""

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.forms import ConfirmForm
from marketplace.investors import bp
from marketplace.investors.forms import TrackDealForm, TrackImportForm
from marketplace.models import Role, TrackRecordDeal, TrackSource
from marketplace.security import get_owned_or_404, role_required
from marketplace.services import ServiceError
from marketplace.services.track_records import editing, imports, queries, reading


def _render_record(organisation, can_edit: bool):
    deals = queries.deals_of(organisation.id)
    return render_template(
        "investors/track_record.html",
        organisation=organisation,
        deals=deals,
        summary=queries.summarise(deals),
        can_edit=can_edit,
        confirm_form=ConfirmForm() if can_edit else None,
    )


@bp.route("/track-record")
@role_required(Role.INVESTOR)
def track_record():
    """The organisation's earlier deals with their totals, and the ways to add more."""
    return _render_record(current_user.organisation, can_edit=True)


@bp.route("/organisations/<int:organisation_id>/track-record")
@role_required(Role.INVESTOR, Role.BROKER, Role.ADMIN)
def organisation_track_record(organisation_id):
    """An investor organisation's track record, read-only, for brokers and admins."""
    if current_user.role == Role.INVESTOR:
        if organisation_id != current_user.organisation_id:
            abort(403)
        return redirect(url_for("investors.track_record"))
    organisation = queries.investor_organisation(organisation_id)
    if organisation is None:
        abort(404)
    return _render_record(organisation, can_edit=False)


@bp.route("/track-record/new", methods=["GET", "POST"])
@role_required(Role.INVESTOR)
def new_track_deal():
    """Add one earlier deal by hand."""
    form = TrackDealForm()
    if form.validate_on_submit():
        try:
            editing.add_deal(current_user, form.to_input())
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Deal added to the track record."), "success")
            return redirect(url_for("investors.track_record"))
    return render_template("investors/track_deal_form.html", form=form, deal=None)


def _own_deal(track_deal_id: int) -> TrackRecordDeal:
    """A deal of the user's organisation that may be changed (404, 403, or 409 for platform's)."""
    deal = get_owned_or_404(TrackRecordDeal, track_deal_id, staff_may=False)
    if deal.source == TrackSource.PLATFORM:
        abort(409, description=_("A deal closed on the platform cannot be changed."))
    return deal


@bp.route("/track-record/deals/<int:track_deal_id>/edit", methods=["GET", "POST"])
@role_required(Role.INVESTOR)
def edit_track_deal(track_deal_id):
    """Correct a deal entered by hand or imported."""
    deal = _own_deal(track_deal_id)
    form = TrackDealForm(deal=deal)
    if form.validate_on_submit():
        try:
            editing.update_deal(deal, current_user, form.to_input())
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("investors.track_record"))
    return render_template("investors/track_deal_form.html", form=form, deal=deal)


@bp.route("/track-record/deals/<int:track_deal_id>/delete", methods=["POST"])
@role_required(Role.INVESTOR)
def delete_track_deal(track_deal_id):
    """Remove a deal entered by hand or imported."""
    deal = _own_deal(track_deal_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    editing.delete_deal(deal, current_user)
    flash(_("Deal removed from the track record."), "success")
    return redirect(url_for("investors.track_record"))


@bp.route("/track-record/import", methods=["GET", "POST"])
@role_required(Role.INVESTOR)
def import_track_record():
    """Import deals from a CSV or XLSX file: all of them, or none with each row's errors."""
    form, errors, status = TrackImportForm(), [], 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            result = imports.import_file(current_user, upload.filename, upload.read())
        except ServiceError as error:
            flash(str(error.message), "danger")
            errors, status = getattr(error, "errors", []), error.status
        else:
            flash(_("%(added)d added, %(present)d already present.", added=result.added,
                    present=result.already_present), "success")  # fmt: skip
            return redirect(url_for("investors.track_record"))
    elif form.is_submitted():
        status = 400
    return render_template(
        "investors/track_import.html", form=form, errors=errors, limits=reading
    ), status


@bp.get("/track-record/template.csv")
@role_required(Role.INVESTOR)
def track_record_template():
    """The columns of an import file, as a CSV to fill in."""
    return Response(
        imports.template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=track-record-template.csv"},
    )
