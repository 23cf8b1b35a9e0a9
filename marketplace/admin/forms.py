"""Admin forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from marketplace.auth.forms import StrongPassword
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
