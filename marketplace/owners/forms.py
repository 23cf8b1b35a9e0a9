"""The financing-need form and the document upload form."""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
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
from marketplace.labels import CAPACITY_UNITS
from marketplace.reference import sectors
from marketplace.services.listings.listings import NeedInput

MAX_AMOUNT = Decimal("1000000000000")


class NeedForm(FlaskForm):
    title_en = StringField(_l("Title in English"), validators=[Optional(), Length(max=200)])
    title_zh = StringField(_l("Title in Chinese"), validators=[Optional(), Length(max=200)])
    summary_en = TextAreaField(_l("Summary in English"), validators=[Optional(), Length(max=1000)])
    summary_zh = TextAreaField(_l("Summary in Chinese"), validators=[Optional(), Length(max=1000)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    country_iso2 = SelectField(_l("Country"), validators=[DataRequired(), common.not_exited])
    sector = SelectField(_l("Sector"), validators=[DataRequired()])
    technology = SelectField(_l("Technology"), validators=[DataRequired()])
    taxonomy_activity_ref = SelectField(_l("EU / Common Ground taxonomy activity"))
    amount = FiniteDecimalField(
        _l("Amount sought"),
        places=2,
        validators=[InputRequired(), NumberRange(min=Decimal("1"), max=MAX_AMOUNT)],
    )
    currency = SelectField(_l("Currency"), validators=[DataRequired()])
    instruments = common.MultiCheckboxField(
        _l("Instruments wanted"),
        validators=[DataRequired(message=_l("Choose at least one instrument."))],
    )
    tenor_years = IntegerField(
        _l("Tenor (years)"), validators=[InputRequired(), NumberRange(min=1, max=40)]
    )
    stage = SelectField(_l("Stage"), validators=[DataRequired()])
    capacity = FiniteDecimalField(
        _l("Capacity"),
        places=3,
        validators=[Optional(), NumberRange(min=Decimal("0.001"), max=Decimal("100000"))],
    )
    capacity_unit = SelectField(
        _l("Capacity unit"), choices=[("", "—")] + list(CAPACITY_UNITS.items())
    )
    owner_capacity_factor = FiniteDecimalField(
        _l("Your capacity factor (%)"),
        places=2,
        validators=[Optional(), NumberRange(min=Decimal("0.1"), max=Decimal("100"))],
    )
    owner_tco2e_per_year = FiniteDecimalField(
        _l("Your own estimate of tCO2e avoided per year"),
        places=1,
        validators=[Optional(), NumberRange(min=0, max=100000000)],
    )
    show_organisation = BooleanField(_l("Show our organisation's name on the public listing"))
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country_iso2.choices = common.bri_country_choices()
        self.sector.choices = common.sector_choices()
        self.technology.choices = common.technology_choices()
        self.taxonomy_activity_ref.choices = common.taxonomy_activity_choices()
        self.currency.choices = common.currency_choices()
        self.instruments.choices = common.instrument_choices()
        self.stage.choices = common.stage_choices()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.title_en.data or "").strip() and not (self.title_zh.data or "").strip():
            self.title_en.errors = [
                *self.title_en.errors,
                _l("Give a title in English, in Chinese, or both."),
            ]
            valid = False
        return valid

    def validate_technology(self, field):
        if field.data in sectors.TECHNOLOGIES and sectors.sector_of(field.data) != self.sector.data:
            raise ValidationError(_l("This technology does not belong to the chosen sector."))

    def validate_taxonomy_activity_ref(self, field):
        tech = sectors.TECHNOLOGIES.get(self.technology.data)
        if field.data and tech and field.data not in tech.eu_activity_refs:
            raise ValidationError(_l("This taxonomy activity does not fit the technology."))

    def validate_capacity_unit(self, field):
        if self.capacity.data is not None and not field.data:
            raise ValidationError(_l("Choose the unit of the capacity."))

    def to_input(self) -> NeedInput:
        factor = self.owner_capacity_factor.data
        return NeedInput(
            title_en=_clean(self.title_en.data),
            title_zh=_clean(self.title_zh.data),
            summary_en=_clean(self.summary_en.data),
            summary_zh=_clean(self.summary_zh.data),
            description=(self.description.data or "").strip(),
            country_iso2=self.country_iso2.data,
            sector=self.sector.data,
            technology=self.technology.data,
            taxonomy_activity_ref=self.taxonomy_activity_ref.data or None,
            amount=self.amount.data,
            currency=self.currency.data,
            instruments=list(self.instruments.data),
            tenor_years=self.tenor_years.data,
            stage=self.stage.data,
            capacity=self.capacity.data,
            capacity_unit=self.capacity_unit.data or None,
            owner_capacity_factor=(factor / 100) if factor is not None else None,
            owner_tco2e_per_year=self.owner_tco2e_per_year.data,
            show_organisation=self.show_organisation.data,
        )

    def fill_from(self, need) -> None:
        """Pre-fill from a stored need (the capacity factor is shown in %)."""
        if need.owner_capacity_factor is not None and not self.is_submitted():
            self.owner_capacity_factor.data = need.owner_capacity_factor * 100


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None
