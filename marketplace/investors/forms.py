"""The green-finance product form and its mandate; the track-record deal and import forms."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
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

from marketplace import forms as common
from marketplace.forms import FiniteDecimalField
from marketplace.services.listings.listings import ProductInput
from marketplace.services.track_records import rules

MAX_TICKET = Decimal("1000000000000")


class ProductForm(FlaskForm):
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=200)])
    name_zh = StringField(_l("Name in Chinese"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    product_type = SelectField(_l("Product type"), validators=[DataRequired()])
    currency = SelectField(_l("Currency"), validators=[DataRequired()])
    ticket_min = FiniteDecimalField(
        _l("Smallest ticket"),
        places=2,
        validators=[InputRequired(), NumberRange(min=Decimal("1"), max=MAX_TICKET)],
    )
    ticket_max = FiniteDecimalField(
        _l("Largest ticket"),
        places=2,
        validators=[InputRequired(), NumberRange(min=Decimal("1"), max=MAX_TICKET)],
    )
    tenor_min_years = IntegerField(
        _l("Shortest tenor (years)"), validators=[InputRequired(), NumberRange(min=1, max=40)]
    )
    tenor_max_years = IntegerField(
        _l("Longest tenor (years)"), validators=[InputRequired(), NumberRange(min=1, max=40)]
    )
    countries = SelectMultipleField(
        _l("Countries"), validators=[common.not_exited], render_kw={"size": 8}
    )
    regions = common.MultiCheckboxField(_l("Whole regions"))
    sectors = common.MultiCheckboxField(
        _l("Sectors"), validators=[DataRequired(message=_l("Choose at least one sector."))]
    )
    technologies = common.MultiCheckboxField(_l("Only these technologies (optional)"))
    instruments = common.MultiCheckboxField(
        _l("Instruments offered"),
        validators=[DataRequired(message=_l("Choose at least one instrument."))],
    )
    stages = common.MultiCheckboxField(
        _l("Project stages accepted"),
        validators=[DataRequired(message=_l("Choose at least one stage."))],
    )
    taxonomy_requirements = common.MultiCheckboxField(_l("Taxonomy requirements"))
    min_tco2e_per_year = FiniteDecimalField(
        _l("Minimum tCO2e avoided per year"),
        places=1,
        validators=[Optional(), NumberRange(min=0, max=100000000)],
    )
    pricing_indication = StringField(
        _l("Pricing indication"), validators=[Optional(), Length(max=300)]
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.product_type.choices = common.instrument_choices()
        self.currency.choices = common.currency_choices()
        self.countries.choices = [c for c in common.bri_country_choices()]
        self.regions.choices = common.region_choices()
        self.sectors.choices = common.sector_choices()
        self.technologies.choices = common.technology_choices()
        self.instruments.choices = common.instrument_choices()
        self.stages.choices = common.stage_choices()
        self.taxonomy_requirements.choices = common.taxonomy_requirement_choices()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.name_en.data or "").strip() and not (self.name_zh.data or "").strip():
            self.name_en.errors = [
                *self.name_en.errors,
                _l("Give a name in English, in Chinese, or both."),
            ]
            valid = False
        if not self.regions.data and not self.countries.data:
            self.regions.errors = [
                *self.regions.errors,
                _l("Choose countries, whole regions, or both."),
            ]
            valid = False
        return valid

    def validate_ticket_max(self, field):
        if self.ticket_min.data and field.data and field.data < self.ticket_min.data:
            raise ValidationError(_l("The largest ticket must not be below the smallest."))

    def validate_tenor_max_years(self, field):
        if self.tenor_min_years.data and field.data and field.data < self.tenor_min_years.data:
            raise ValidationError(_l("The longest tenor must not be below the shortest."))

    def to_input(self) -> ProductInput:
        return ProductInput(
            name_en=(self.name_en.data or "").strip() or None,
            name_zh=(self.name_zh.data or "").strip() or None,
            description=(self.description.data or "").strip(),
            product_type=self.product_type.data,
            ticket_min=self.ticket_min.data,
            ticket_max=self.ticket_max.data,
            currency=self.currency.data,
            tenor_min_years=self.tenor_min_years.data,
            tenor_max_years=self.tenor_max_years.data,
            countries=list(self.countries.data),
            regions=list(self.regions.data),
            sectors=list(self.sectors.data),
            technologies=list(self.technologies.data),
            instruments=list(self.instruments.data),
            stages=list(self.stages.data),
            taxonomy_requirements=list(self.taxonomy_requirements.data),
            min_tco2e_per_year=self.min_tco2e_per_year.data,
            pricing_indication=(self.pricing_indication.data or "").strip() or None,
        )


class TrackDealForm(FlaskForm):
    """One earlier deal of the organisation's track record."""

    country_iso2 = SelectField(_l("Country"), validators=[Optional()])
    sector = SelectField(_l("Sector"), validators=[Optional()])
    technology = SelectField(_l("Technology"), validators=[Optional()])
    year = IntegerField(
        _l("Year closed"), validators=[InputRequired(), NumberRange(min=rules.FIRST_YEAR)]
    )
    amount_usd = FiniteDecimalField(
        _l("Amount (USD)"),
        places=2,
        validators=[Optional(), NumberRange(min=Decimal("0.01"), max=rules.MAX_AMOUNT_USD)],
    )
    co_financiers = TextAreaField(
        _l("Co-financiers (one per line)"), validators=[Optional(), Length(max=5000)]
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, deal=None, **kwargs):
        super().__init__(*args, obj=deal, **kwargs)
        none = [("", "—")]
        self.country_iso2.choices = none + common.bri_country_choices()
        self.sector.choices = none + common.sector_choices()
        self.technology.choices = none + common.technology_choices()
        if deal is not None and not self.is_submitted():
            self.co_financiers.data = "\n".join(deal.co_financiers or ())

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        found = rules.problems(rules.completed(self.to_input()))
        for column, message in found:
            field = getattr(self, _TRACK_FIELDS.get(column, column))
            field.errors = [*field.errors, message]
        return not found

    def to_input(self) -> rules.DealInput:
        return rules.DealInput(
            country_iso2=self.country_iso2.data or None,
            sector=self.sector.data or None,
            technology=self.technology.data or None,
            year=self.year.data,
            amount_usd=self.amount_usd.data,
            co_financiers=rules.split_names(self.co_financiers.data),
        )


_TRACK_FIELDS = {"country": "country_iso2"}


class TrackImportForm(FlaskForm):
    file = FileField(
        _l("CSV or XLSX file"), validators=[FileRequired(_l("Choose a file to import."))]
    )
    submit = SubmitField(_l("Import"))
