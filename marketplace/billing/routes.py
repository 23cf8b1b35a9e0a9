"""Pages for payers: history and receipts, the listing fee, and the investor membership."""

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required

from marketplace.billing import bp
from marketplace.billing.forms import ListingFeeForm, MembershipForm
from marketplace.extensions import db
from marketplace.forms import ConfirmForm
from marketplace.models import FeeKind, FinancingNeed, Organisation, Payment, Role
from marketplace.security import get_or_404, get_owned_or_404, role_required
from marketplace.services import ServiceError
from marketplace.services.payments import payments, queries
from marketplace.services.payments.fees import INTERVAL_FEES, fee_schedule


def _to_stripe(url: str):
    """A page that sends the browser on to a Stripe page, with a link in case it does not."""
    # Not a redirect: under CSP form-action 'self', Chrome and Safari refuse to follow a form
    # POST's redirect to another site, while a Refresh is an ordinary navigation.
    response = make_response(render_template("billing/to_stripe.html", url=url))
    response.headers["Refresh"] = f"0;url={url}"
    return response


@bp.route("/")
@login_required
def history():
    """The payments of the user's organisation, with receipts, and listing fees still to pay."""
    return render_template(
        "billing/history.html",
        payments=queries.payments_of(current_user.organisation_id),
        awaiting=queries.needs_awaiting_fee(current_user.organisation_id)
        if current_user.role == Role.OWNER
        else [],
        configured=payments.payments_configured(),
    )


@bp.route("/payments/<int:payment_id>/receipt")
@login_required
def receipt(payment_id):
    """A receipt for one payment of the user's organisation (admins see every one)."""
    payment = get_or_404(Payment, payment_id)
    if current_user.role != Role.ADMIN and payment.organisation_id != current_user.organisation_id:
        abort(403)
    return render_template("billing/receipt.html", payment=payment)


@bp.route("/needs/<int:need_id>/listing-fee", methods=["GET", "POST"])
@role_required(Role.OWNER)
def pay_listing_fee(need_id):
    """Pay the listing fee of a submitted need through Stripe Checkout."""
    need = get_owned_or_404(FinancingNeed, need_id, staff_may=False)
    form = ListingFeeForm()
    amounts = fee_schedule()[FeeKind.LISTING_FEE]
    form.currency.choices = [(code, code) for code in amounts]
    if form.validate_on_submit():
        try:
            return _to_stripe(
                payments.start_listing_fee_checkout(need, current_user, form.currency.data)
            )
        except ServiceError as error:
            flash(str(error.message), "danger")
    return render_template(
        "billing/listing_fee.html",
        need=need,
        form=form,
        amounts=amounts,
        configured=payments.payments_configured(),
        history=queries.payments_of_need(need.id),
    )


@bp.route("/checkout/success")
@login_required
def checkout_success():
    """Back from Stripe: the payment shows once Stripe confirms it (by webhook)."""
    return render_template("billing/checkout_done.html", success=True)


@bp.route("/checkout/cancel")
@login_required
def checkout_cancel():
    """Back from Stripe without paying."""
    return render_template("billing/checkout_done.html", success=False)


@bp.route("/membership", methods=["GET", "POST"])
@role_required(Role.INVESTOR)
def membership():
    """The organisation's membership: its status, the plans, and the Stripe customer portal."""
    form = MembershipForm()
    schedule = fee_schedule()
    currencies = {code for kind in INTERVAL_FEES.values() for code in schedule[kind]}
    form.currency.choices = [(code, code) for code in sorted(currencies)]
    if form.validate_on_submit():
        try:
            return _to_stripe(
                payments.start_membership_checkout(
                    current_user, form.interval.data, form.currency.data
                )
            )
        except ServiceError as error:
            flash(str(error.message), "danger")
    return render_template(
        "billing/membership.html",
        form=form,
        schedule=schedule,
        organisation=db.session.get(Organisation, current_user.organisation_id),
        configured=payments.payments_configured(),
        portal_form=ConfirmForm(),
    )


@bp.route("/membership/portal", methods=["POST"])
@role_required(Role.INVESTOR)
def membership_portal():
    """Send the investor to Stripe's customer portal to change or cancel the membership."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        return _to_stripe(payments.portal_url(current_user))
    except ServiceError as error:
        flash(str(error.message), "danger")
    return redirect(url_for("billing.membership"))
