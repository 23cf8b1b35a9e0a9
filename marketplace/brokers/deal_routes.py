"""Broker pages for matches: the review queue, decisions (one or in bulk) and the deal pipeline."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import page_cache
from marketplace.brokers import bp
from marketplace.brokers.forms import BulkDecisionForm
from marketplace.forms import AdvanceForm, CloseLostForm, CloseWonForm, DecisionForm
from marketplace.models import Hub, Match, MatchSource, MatchStatus, RejectReason, Role
from marketplace.parsing import page_number, query_choice, query_float, query_int
from marketplace.reference.sectors import SECTORS
from marketplace.security import get_or_404, role_required
from marketplace.services import ServiceError
from marketplace.services.deals import deals, review
from marketplace.services.matching import queue
from marketplace.services.payments import payments, success_fees

STAFF = (Role.BROKER, Role.ADMIN)


def _filters() -> queue.QueueFilters:
    """The queue's filters from the URL; a value that is not one of the choices is ignored."""
    args = request.args
    country = (args.get("country") or "").upper()
    return queue.QueueFilters(
        sector=query_choice(args.get("sector"), SECTORS),
        country=country if len(country) == 2 and country.isalpha() and country.isascii() else None,
        hub=query_choice(args.get("hub"), {hub.value for hub in Hub}),
        source=query_choice(args.get("source"), {source.value for source in MatchSource}),
        min_chance=query_float(args.get("min_chance"), minimum=0, maximum=100),
        near_misses=args.get("near_misses") == "1",
        older_than_days=query_int(args.get("older_than_days"), minimum=0, maximum=36_500),
        order=query_choice(args.get("order"), queue.ORDERS, "score"),
        page=page_number(args.get("page")),
    )


@bp.route("/queue")
@role_required(*STAFF)
def review_queue():
    """Suggested matches and expressions of interest waiting for a decision."""
    filters = _filters()
    # Every broker sees the same queue: its count (a scan of every suggested match) and its rows
    # are cached until the next write of a match or a listing.
    total = page_cache.value("queue-total", lambda: queue.queue_total(filters))
    hidden = page_cache.value("queue-hidden", lambda: queue.hidden_total(filters))
    rows = page_cache.fragment(
        "queue-rows",
        lambda: render_template("brokers/_queue_rows.html", matches=queue.queue_page(filters)),
    )
    return render_template(
        "brokers/queue.html",
        rows=rows,
        has_rows=total > (filters.page - 1) * queue.PAGE_SIZE,
        total=total,
        hidden=hidden,
        filters=filters,
        page_size=queue.PAGE_SIZE,
        bulk_form=BulkDecisionForm(),
    )


@bp.route("/matches/<int:match_id>/decide", methods=["POST"])
@role_required(*STAFF)
def decide(match_id):
    """Accept (and introduce) or reject one match with a reason."""
    form = DecisionForm()
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "danger")
        return redirect(url_for("deals.match_detail", match_id=match_id))
    try:
        _apply(match_id, form, int(form.version.data))
    except ServiceError as error:
        flash(str(error.message), "danger")
        return redirect(url_for("deals.match_detail", match_id=match_id))
    flash(_("Decision recorded."), "success")
    return redirect(url_for("brokers.review_queue"))


def _apply(match_id: int, form: DecisionForm, version: int | None) -> None:
    if form.decision.data == "accept":
        review.accept(match_id, current_user, form.note.data or "", version)
    else:
        review.reject(
            match_id, current_user, RejectReason(form.reason.data), form.note.data or "", version
        )


@bp.route("/queue/bulk", methods=["POST"])
@role_required(*STAFF)
def bulk_decide():
    """The same decision for several matches, after a confirmation page."""
    form = BulkDecisionForm()
    if not form.validate_on_submit() or not form.match_ids.data:
        flash(_("Choose matches and, to reject, a reason."), "danger")
        return redirect(url_for("brokers.review_queue"))
    if form.confirmed.data != "yes":
        matches = [get_or_404(Match, ident) for ident in form.match_ids.data]
        return render_template("brokers/bulk_confirm.html", form=form, matches=matches)
    done, refused = 0, []
    for match_id in form.match_ids.data:
        try:
            _apply(match_id, form, None)
            done += 1
        except ServiceError as error:
            refused.append(f"#{match_id}: {error.message}")
    flash(_("%(n)d decisions recorded.", n=done), "success")
    for message in refused:
        flash(message, "warning")
    return redirect(url_for("brokers.review_queue"))


@bp.route("/pipeline")
@role_required(*STAFF)
def pipeline():
    """Deals by stage, with counts and totals in USD."""
    stage = request.args.get("stage", MatchStatus.INTRODUCED.value)
    if stage not in {s.value for s in deals.PIPELINE}:
        abort(400, description=_("Unknown deal stage."))
    return render_template(
        "brokers/pipeline.html",
        board=deals.pipeline_board(),
        stage=stage,
        deals=deals.deals_in(MatchStatus(stage)),
    )


@bp.route("/matches/<int:match_id>/advance", methods=["POST"])
@role_required(*STAFF)
def advance(match_id):
    """Move a deal to its next stage."""
    form = AdvanceForm()
    if not form.validate_on_submit():
        abort(400)
    _run(
        lambda: deals.advance(match_id, current_user, int(form.version.data)),
        _("Deal moved to its next stage."),
    )
    return redirect(url_for("deals.match_detail", match_id=match_id))


@bp.route("/matches/<int:match_id>/close-won", methods=["POST"])
@role_required(*STAFF)
def close_won(match_id):
    """Close a deal as won, recording amount, instrument and date."""
    form = CloseWonForm()
    if not form.validate_on_submit():
        _flash_errors(form)
    elif (
        _run(
            lambda: deals.close_won(
                match_id,
                current_user,
                form.amount.data,
                form.currency.data,
                form.instrument.data,
                form.closed_on.data,
                form.success_fee_percent.data,
                int(form.version.data),
            ),
            _("Deal closed as won."),
        )
        and form.success_fee_percent.data
    ):
        _invoice_success_fee(match_id, form.success_fee_percent.data)
    return redirect(url_for("deals.match_detail", match_id=match_id))


def _invoice_success_fee(match_id: int, percent) -> None:
    """Raise the deal's success-fee invoice through Stripe, when payments are configured."""
    if not payments.payments_configured():
        flash(_("Payments are not configured, so no success-fee invoice was raised."), "info")
        return
    _run(
        lambda: success_fees.raise_success_fee_invoice(
            get_or_404(Match, match_id), percent, current_user
        ),
        _("Success-fee invoice raised."),
    )


@bp.route("/matches/<int:match_id>/close-lost", methods=["POST"])
@role_required(*STAFF)
def close_lost(match_id):
    """Close a deal as lost, with the reason."""
    form = CloseLostForm()
    if form.validate_on_submit():
        _run(
            lambda: deals.close_lost(
                match_id, current_user, form.reason.data, int(form.version.data)
            ),
            _("Deal closed as lost."),
        )
    else:
        _flash_errors(form)
    return redirect(url_for("deals.match_detail", match_id=match_id))


def _run(action, success: str) -> bool:
    try:
        action()
    except ServiceError as error:
        flash(str(error.message), "danger")
        return False
    flash(success, "success")
    return True


def _flash_errors(form) -> None:
    for name, errors in form.errors.items():
        flash(f"{form[name].label.text}: {' '.join(str(e) for e in errors)}", "danger")
