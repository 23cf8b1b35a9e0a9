"""Admin forms."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange

from marketplace.forms import FiniteDecimalField, StrongPassword
from marketplace.labels import ROLES


class CreateUserForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), StrongPassword()])
    role = SelectField(_l("Role"), choices=list(ROLES.items()))
    organisation_id = SelectField(_l("Organisation"), coerce=int)
    submit = SubmitField(_l("Create user"))


class EditUserForm(FlaskForm):
    role = SelectField(_l("Role"), choices=list(ROLES.items()))
    active = BooleanField(_l("Account active"))
    submit = SubmitField(_l("Save"))


class FxRateForm(FlaskForm):
    currency = SelectField(_l("Currency"))
    usd_per_unit = FiniteDecimalField(
        _l("US dollars per one unit"),
        places=8,
        validators=[DataRequired(), NumberRange(min=Decimal("0.00000001"), max=Decimal("100000"))],
    )
    as_of = DateField(_l("Rate date"), validators=[DataRequired()])
    source = StringField(_l("Source of the rate"), validators=[DataRequired(), Length(max=300)])
    submit = SubmitField(_l("Add rate"))
