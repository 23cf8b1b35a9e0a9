"""Forms and form pieces that several blueprints use: confirmation buttons, uploads, broker
decisions on matches and deals, interest, the password rule, multi-checkbox fields and choices.

A form used by one blueprint lives in that blueprint's forms.py; one used by two lives here, so no
blueprint imports another.
"""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from markupsafe import Markup, escape
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
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
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget, Select, html_params

from marketplace import labels
from marketplace.i18n import country_name, current_locale
from marketplace.labels import CURRENCIES, INSTRUMENTS, REJECT_REASONS
from marketplace.models import Role
from marketplace.reference import catalog, sectors
from marketplace.services.accounts.passwords import password_problem
from marketplace.services.matching.interests import own_open_listings


class FiniteDecimalField(DecimalField):
    """A decimal field that refuses NaN, sNaN and ±Infinity with a form error, never a 500."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(_l("Enter a number (not NaN or infinity)."))


def version_field() -> IntegerField:
    """The version of the record the user saw (hidden); a concurrent change makes it stale."""
    return IntegerField(
        widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=2**31 - 1)]
    )


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes; each option gets its own label."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def choices(vocabulary: dict, keys=None) -> list[tuple[str, str]]:
    keys = keys if keys is not None else vocabulary.keys()
    return [(key, vocabulary[key]) for key in keys]


def bri_country_choices() -> list[tuple]:
    """Belt-and-Road countries by name in the reader's language; exited ones are marked."""
    options = []
    for iso2, country in catalog.countries().items():
        name = country_name(iso2)
        if country.is_exited:
            name = _l(
                "%(name)s (left the initiative %(year)d)", name=name, year=country.exited.year
            )
        options.append((iso2, name))
    return sorted(options, key=lambda pair: str(pair[1]))


def not_exited(form, field) -> None:
    """Refuse countries that have left the Belt and Road Initiative."""
    values = field.data if isinstance(field.data, list) else [field.data]
    for iso2 in values:
        country = catalog.countries().get(iso2 or "")
        if country is not None and country.is_exited:
            raise ValidationError(
                _l("%(name)s has left the Belt and Road Initiative.", name=country_name(iso2))
            )


def sector_choices():
    return choices(labels.SECTORS, sectors.SECTORS)


def technology_choices():
    return choices(labels.TECHNOLOGIES, sectors.TECHNOLOGIES.keys())


def instrument_choices():
    return choices(labels.INSTRUMENTS, sectors.INSTRUMENTS)


def stage_choices():
    return choices(labels.STAGES, sectors.STAGES)


def currency_choices():
    return choices(labels.CURRENCIES, sectors.CURRENCIES)


def region_choices():
    return choices(labels.REGIONS, catalog.regions())


def taxonomy_requirement_choices():
    return choices(labels.TAXONOMY_REQUIREMENTS, sectors.TAXONOMY_REQUIREMENTS)


def taxonomy_activity_choices() -> list[tuple[str, str]]:
    """The EU activities our technologies map to, with their NACE codes (source wording)."""
    refs = {ref for tech in sectors.TECHNOLOGIES.values() for ref in tech.eu_activity_refs}
    activities = catalog.taxonomy_activities()
    options = [("", _l("Not yet assessed"))]
    for ref in sorted(refs, key=lambda r: tuple(int(p) for p in r.split("."))):
        activity = activities[ref]
        nace = ", ".join(activity.nace_codes) or _l("no NACE code")
        options.append((ref, f"{ref} {activity.name} (NACE {nace})"))
    return options


class StrongPassword:
    """The password rule of services.accounts.passwords (NIST SP 800-63B), checked against the
    e-mail and name typed in the same form or, on forms without them, the form's `account`."""

    def __init__(self, email_field: str = "email", name_field: str = "display_name"):
        self.email_field = email_field
        self.name_field = name_field

    def __call__(self, form, field):
        account = getattr(form, "account", None)
        email = _field_data(form, self.email_field) or getattr(account, "email", "")
        name = _field_data(form, self.name_field) or getattr(account, "display_name", "")
        problem = password_problem(field.data or "", email, name)
        if problem:
            raise ValidationError(problem)


def _field_data(form, name: str) -> str:
    field = getattr(form, name, None)
    return (field.data or "") if field is not None and isinstance(field.data, str) else ""


class DocumentForm(FlaskForm):
    document = FileField(
        _l("Document (PDF, XLSX or DOCX, up to 10 MB)"),
        validators=[FileRequired(_l("Choose a file to upload."))],
    )
    submit = SubmitField(_l("Upload"))


class ConfirmForm(FlaskForm):
    """An empty form: a button that posts with a CSRF token."""

    submit = SubmitField(_l("Confirm"))


class VerificationForm(FlaskForm):
    decision = SelectField(
        _l("Decision"), choices=[("verified", _l("Verified")), ("rejected", _l("Rejected"))]
    )
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Record decision"))

    def validate_reason(self, field):
        if self.decision.data == "rejected" and not (field.data or "").strip():
            raise ValidationError(_l("Give a reason for the rejection."))


class DecisionForm(FlaskForm):
    """Accept or reject one suggested match; `version` is the match version the broker saw."""

    decision = SelectField(
        _l("Decision"), choices=[("accept", _l("Accept and introduce")), ("reject", _l("Reject"))]
    )
    reason = SelectField(
        _l("Reason for rejecting"),
        choices=[("", "—")] + list(REJECT_REASONS.items()),
        default="",
        validate_choice=False,
    )
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    version = version_field()
    submit = SubmitField(_l("Record decision"))

    def validate_reason(self, field):
        if field.data and field.data not in REJECT_REASONS:
            raise ValidationError(_l("Not a valid choice."))
        if self.decision.data == "reject" and not field.data:
            raise ValidationError(_l("Choose the reason for rejecting."))


class AdvanceForm(FlaskForm):
    version = version_field()
    submit = SubmitField(_l("Move to the next stage"))


class CloseWonForm(FlaskForm):
    amount = FiniteDecimalField(
        _l("Amount financed"),
        places=2,
        validators=[
            InputRequired(),
            NumberRange(min=Decimal("0.01"), max=Decimal("1000000000000")),
        ],
    )
    currency = SelectField(_l("Currency"), choices=list(CURRENCIES.items()))
    instrument = SelectField(_l("Instrument"), choices=list(INSTRUMENTS.items()))
    closed_on = DateField(_l("Date closed"), validators=[InputRequired()])
    success_fee_percent = FiniteDecimalField(
        _l("Success fee (%)"),
        places=2,
        validators=[Optional(), NumberRange(min=Decimal("0"), max=Decimal("10"))],
    )
    version = version_field()
    submit = SubmitField(_l("Close as won"))


class CloseLostForm(FlaskForm):
    reason = TextAreaField(
        _l("Why was the deal lost?"), validators=[DataRequired(), Length(max=2000)]
    )
    version = version_field()
    submit = SubmitField(_l("Close as lost"))


class ManyOptionsSelect(Select):
    """wtforms' select, writing each option in one step: an investor offering one of a thousand
    products made the generic option rendering most of a need page's time. A field given
    `options_html` (options rendered before, e.g. cached) writes those instead."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        options = getattr(field, "options_html", None)
        if options is None:
            options = "".join(
                _option(value, label, selected)
                for value, label, selected, _render_kw in field.iter_choices()
            )
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


def _option(value, label, selected: bool = False) -> str:
    mark = "selected " if selected else ""
    return f'<option {mark}value="{escape(value)}">{escape(label)}</option>'


class InterestForm(FlaskForm):
    need_id = HiddenField()
    product_id = HiddenField()
    own_listing = SelectField(
        _l("Offer"), coerce=int, validators=[DataRequired()], widget=ManyOptionsSelect()
    )
    message = TextAreaField(_l("Short message to the broker"), validators=[Length(max=1000)])
    submit = SubmitField(_l("Express interest"))


def offers_interest(user, *, on_need: bool) -> bool:
    """Investors express interest from a need's page, owners from a product's."""
    return user.is_authenticated and user.role == (Role.INVESTOR if on_need else Role.OWNER)


def own_listing_options(user) -> str:
    """The <option>s of the user's own open listings in the reader's language ("" when none)."""
    listings = own_open_listings(user, current_locale())
    return "".join(_option(value, label) for value, label in listings)


def interest_form_for(options: str, need_id: int | None = None, product_id: int | None = None):
    """The interest form offering these rendered options, or None when there are none."""
    if not options:
        return None
    form = InterestForm(need_id=need_id, product_id=product_id)
    form.own_listing.choices = []  # validated on submit against the user's listings then
    form.own_listing.options_html = Markup(options)
    return form
