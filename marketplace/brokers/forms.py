"""Broker forms."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from marketplace.labels import CURRENCIES, INSTRUMENTS, REJECT_REASONS


class VerificationForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[("verified", _l("Verified")),
                                                    ("rejected", _l("Rejected"))])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Record decision"))

    def validate_reason(self, field):
        if self.decision.data == "rejected" and not (field.data or "").strip():
            raise ValidationError(_l("Give a reason for the rejection."))


class DecisionForm(FlaskForm):
    """Accept or reject one suggested match; `version` is the match version the broker saw."""

    decision = SelectField(_l("Decision"), choices=[("accept", _l("Accept and introduce")),
                                                    ("reject", _l("Reject"))])
    reason = SelectField(_l("Reason for rejecting"), choices=[("", "—")] + list(
        REJECT_REASONS.items()), default="", validate_choice=False)
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    version = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Record decision"))

    def validate_reason(self, field):
        if field.data and field.data not in REJECT_REASONS:
            raise ValidationError(_l("Not a valid choice."))
        if self.decision.data == "reject" and not field.data:
            raise ValidationError(_l("Choose the reason for rejecting."))


class BulkDecisionForm(DecisionForm):
    """The same decision for several matches; a second step confirms it."""

    match_ids = SelectMultipleField(_l("Matches"), coerce=int, validate_choice=False)
    confirmed = HiddenField()
    version = HiddenField()


class AdvanceForm(FlaskForm):
    version = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Move to the next stage"))


class CloseWonForm(FlaskForm):
    amount = DecimalField(_l("Amount financed"), places=2, validators=[
        InputRequired(), NumberRange(min=Decimal("0.01"), max=Decimal("1000000000000"))])
    currency = SelectField(_l("Currency"), choices=list(CURRENCIES.items()))
    instrument = SelectField(_l("Instrument"), choices=list(INSTRUMENTS.items()))
    closed_on = DateField(_l("Date closed"), validators=[InputRequired()])
    success_fee_percent = DecimalField(_l("Success fee (%)"), places=2, validators=[
        Optional(), NumberRange(min=Decimal("0"), max=Decimal("10"))])
    version = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Close as won"))


class CloseLostForm(FlaskForm):
    reason = TextAreaField(_l("Why was the deal lost?"), validators=[DataRequired(),
                                                                      Length(max=2000)])
    version = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Close as lost"))
