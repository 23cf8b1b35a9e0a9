"""Broker forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import Length, ValidationError


class VerificationForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[("verified", _l("Verified")),
                                                    ("rejected", _l("Rejected"))])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Record decision"))

    def validate_reason(self, field):
        if self.decision.data == "rejected" and not (field.data or "").strip():
            raise ValidationError(_l("Give a reason for the rejection."))
