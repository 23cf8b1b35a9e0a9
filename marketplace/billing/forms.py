"""Payment forms: choosing how to pay, waivers, success fees, refunds and the fee schedule."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from marketplace import labels
from marketplace.forms import FiniteDecimalField, choices, currency_choices

MAX_FEE = Decimal("999999.99")  # Stripe's ceiling for one charge in two-decimal currencies


class ListingFeeForm(FlaskForm):
    currency = SelectField(_l("Pay in"))
    submit = SubmitField(_l("Pay the listing fee with Stripe"))


class MembershipForm(FlaskForm):
    interval = RadioField(
        _l("Billing period"),
        default="year",
        choices=[("month", _l("Monthly")), ("year", _l("Yearly"))],
    )
    currency = SelectField(_l("Pay in"))
    submit = SubmitField(_l("Continue to Stripe"))


class WaiveForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for the waiver"), validators=[DataRequired(), Length(max=2000)]
    )
    submit = SubmitField(_l("Waive the listing fee"))


class SuccessFeeForm(FlaskForm):
    percent = FiniteDecimalField(
        _l("Success fee (percentage of the amount financed)"),
        places=2,
        validators=[InputRequired(), NumberRange(min=Decimal("0.01"), max=Decimal("20"))],
    )
    submit = SubmitField(_l("Raise the invoice through Stripe"))


class RefundForm(FlaskForm):
    amount = FiniteDecimalField(
        _l("Amount to refund (leave empty to refund everything left)"),
        places=2,
        validators=[Optional(), NumberRange(min=Decimal("0.01"))],
    )
    reason = TextAreaField(
        _l("Reason for the refund"), validators=[DataRequired(), Length(max=2000)]
    )
    submit = SubmitField(_l("Refund through Stripe"))


class FeeForm(FlaskForm):
    kind = SelectField(_l("Fee"), choices=choices(labels.FEE_KINDS))
    currency = SelectField(_l("Currency"))
    amount = FiniteDecimalField(
        _l("Amount"),
        places=2,
        validators=[InputRequired(), NumberRange(min=Decimal("0.01"), max=MAX_FEE)],
    )
    submit = SubmitField(_l("Save fee"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency.choices = currency_choices()


class PaymentFilterForm(FlaskForm):
    """The filters of the admin's payment list (a GET form: nothing changes)."""

    class Meta:
        csrf = False

    purpose = SelectField(
        _l("Purpose"),
        validators=[Optional()],
        choices=[("", _l("Any purpose")), *choices(labels.PAYMENT_PURPOSES)],
    )
    status = SelectField(
        _l("Status"),
        validators=[Optional()],
        choices=[("", _l("Any status")), *choices(labels.PAYMENT_STATUSES)],
    )
    organisation = StringField(
        _l("Organisation name contains"), validators=[Optional(), Length(max=200)]
    )
