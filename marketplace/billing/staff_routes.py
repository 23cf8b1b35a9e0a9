"""Pages for brokers and admins: waivers, success-fee invoices, payments, refunds and fees."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.billing import bp
from marketplace.billing.forms import (
    FeeForm,
    PaymentFilterForm,
    RefundForm,
    SuccessFeeForm,
    WaiveForm,
)
from marketplace.i18n import money
from marketplace.models import FeeKind, FinancingNeed, Match, Payment, Role
from marketplace.security import get_or_404, role_required
from marketplace.services import ServiceError
from marketplace.services.payments import payments, queries, refunds, success_fees
from marketplace.services.payments.fees import fee_schedule, set_fee


@bp.route("/listing-fees")
@role_required(Role.BROKER, Role.ADMIN)
def listing_fees():
    """Submitted needs whose listing fee is still unpaid, to chase or waive."""
    return render_template(
        "billing/listing_fees.html",
        needs=queries.needs_awaiting_fee(),
        configured=payments.payments_configured(),
    )


@bp.route("/needs/<int:need_id>/waive", methods=["GET", "POST"])
@role_required(Role.BROKER, Role.ADMIN)
def waive_listing_fee(need_id):
    """Waive a need's listing fee, with a reason, so it can be published without payment."""
    need = get_or_404(FinancingNeed, need_id)
    form = WaiveForm()
    if form.validate_on_submit():
        try:
            payments.waive_listing_fee(need, form.reason.data, current_user)
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Listing fee waived. The need can now be published."), "success")
            return redirect(url_for("billing.listing_fees"))
    return render_template(
        "billing/waive.html", need=need, form=form, history=queries.payments_of_need(need.id)
    )


@bp.route("/deals/<int:match_id>/success-fee", methods=["GET", "POST"])
@role_required(Role.BROKER, Role.ADMIN)
def success_fee(match_id):
    """Raise the success-fee invoice of a deal closed won, at a percent set for this deal."""
    match = get_or_404(Match, match_id)
    form = SuccessFeeForm(percent=match.success_fee_percent)
    if form.validate_on_submit():
        try:
            payment = success_fees.raise_success_fee_invoice(match, form.percent.data, current_user)
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(
                _(
                    "Invoice for %(amount)s sent through Stripe.",
                    amount=money(payment.amount, payment.currency),
                ),
                "success",
            )
            return redirect(url_for("billing.success_fee", match_id=match.id))
    return render_template(
        "billing/success_fee.html",
        match=match,
        form=form,
        configured=payments.payments_configured(),
        invoices=[p for p in queries.payments_of_need(match.need_id) if p.match_id == match.id],
    )


@bp.route("/admin/payments")
@role_required(Role.ADMIN)
def admin_payments():
    """Every payment, filtered by purpose, status and organisation."""
    form = PaymentFilterForm(request.args)
    found = queries.search_payments(form.purpose.data, form.status.data, form.organisation.data)
    return render_template("billing/admin_payments.html", form=form, payments=found)


@bp.route("/admin/payments/<int:payment_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_payment(payment_id):
    """One payment in full, and a full or partial refund with a reason."""
    payment = get_or_404(Payment, payment_id)
    form = RefundForm()
    if form.validate_on_submit():
        try:
            refunds.refund(payment, form.amount.data, form.reason.data, current_user)
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Refund sent to Stripe. It shows here once Stripe confirms it."), "success")
            return redirect(url_for("billing.admin_payment", payment_id=payment.id))
    return render_template(
        "billing/admin_payment.html",
        payment=payment,
        form=form,
        configured=payments.payments_configured(),
    )


@bp.route("/admin/fees", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def fees():
    """The amounts charged for listing fees and memberships, per currency."""
    form = FeeForm()
    if form.validate_on_submit():
        try:
            set_fee(FeeKind(form.kind.data), form.currency.data, form.amount.data, current_user)
        except ServiceError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Fee saved. New payments use it from now on."), "success")
            return redirect(url_for("billing.fees"))
    return render_template("billing/fees.html", form=form, schedule=fee_schedule())
