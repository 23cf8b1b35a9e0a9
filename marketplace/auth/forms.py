"""Account forms; every one carries a CSRF token."""

from babel import Locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length

from marketplace.forms import StrongPassword
from marketplace.i18n import LANGUAGE_NAMES, current_locale
from marketplace.labels import HUBS


def territory_choices() -> list[tuple[str, str]]:
    """ISO 3166 countries and territories, named in the reader's language."""
    names = Locale.parse(current_locale()).territories
    return sorted(
        (
            (code, name)
            for code, name in names.items()
            if len(code) == 2
            and code.isalpha()
            and code not in {"EU", "EZ", "UN", "QO", "XA", "XB", "XK", "ZZ"}
        ),
        key=lambda pair: pair[1],
    )


def language_choices() -> list[tuple[str, str]]:
    return list(LANGUAGE_NAMES.items())


class LoginForm(FlaskForm):
    # No format check here: a bad address simply fails to sign in, with the same message.
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class RegisterForm(FlaskForm):
    role = SelectField(
        _l("I am"),
        choices=[
            ("owner", _l("A project owner looking for finance")),
            ("investor", _l("An investor offering finance")),
        ],
    )
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), StrongPassword(), Length(max=200)]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )
    organisation_name = StringField(
        _l("Organisation"), validators=[DataRequired(), Length(max=200)]
    )
    hub = SelectField(_l("Hub"), choices=list(HUBS.items()))
    country = SelectField(_l("Country of the organisation"))
    locale = SelectField(_l("Language"))
    submit = SubmitField(_l("Create account"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = territory_choices()
        self.locale.choices = language_choices()


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    submit = SubmitField(_l("Send reset link"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), StrongPassword(), Length(max=200)]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )
    submit = SubmitField(_l("Set new password"))

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account  # whose e-mail and name the new password must not be


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    locale = SelectField(_l("Language"))
    submit = SubmitField(_l("Save profile"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = language_choices()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), StrongPassword(), Length(max=200)]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )
    submit = SubmitField(_l("Change password"))

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account  # whose e-mail and name the new password must not be


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"))
    next = HiddenField()
    submit = SubmitField(_l("Switch"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = language_choices()


class ApiKeyForm(FlaskForm):
    """A new personal API key: its name, and whether it may make changes (it always reads)."""

    name = StringField(
        _l("Key name"),
        validators=[DataRequired(), Length(max=80)],
        description=_l("For example the system that will use it."),
    )
    write = BooleanField(_l("Allow changes (write)"))
    submit = SubmitField(_l("Create key"))


class VerificationRequestForm(FlaskForm):
    submit = SubmitField(_l("Ask for verification"))


def _code_field(label, **render_kw):
    """A one-time code: password managers may fill it in (`one-time-code`); no spell check."""
    return StringField(
        label,
        validators=[DataRequired(), Length(max=40)],
        render_kw={
            "autocomplete": "one-time-code",
            "spellcheck": "false",
            "autocapitalize": "off",
            **render_kw,
        },
    )


class MfaVerifyForm(FlaskForm):
    code = _code_field(_l("Code from your authenticator app, or a recovery code"))
    submit = SubmitField(_l("Verify"))


class MfaEnrolForm(FlaskForm):
    code = _code_field(_l("6-digit code from your authenticator app"), inputmode="numeric")
    submit = SubmitField(_l("Turn on two-factor authentication"))


class MfaRecoveryCodesForm(FlaskForm):
    code = _code_field(_l("Code from your authenticator app, or a recovery code"))
    submit = SubmitField(_l("Make new recovery codes"))


class MfaDisableForm(FlaskForm):
    password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])
    code = _code_field(_l("Code from your authenticator app, or a recovery code"))
    submit = SubmitField(_l("Turn off two-factor authentication"))
