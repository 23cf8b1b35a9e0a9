"""The save-search forms and the labels of facets, bands and sort orders."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import AnyOf, DataRequired, Length

from marketplace.i18n import country_name, label

FACET_TITLES = {
    "sector": _l("Sector"), "country": _l("Country"), "region": _l("Region"),
    "instrument": _l("Instrument"), "type": _l("Product type"), "stage": _l("Stage"),
    "currency": _l("Currency"), "amount": _l("Amount (USD)"), "ticket": _l("Ticket size (USD)"),
    "tenor": _l("Tenor"),
}

BAND_LABELS = {
    "lt10m": _l("Under 10 million"), "10m-50m": _l("10 to 50 million"),
    "50m-200m": _l("50 to 200 million"), "200m-1b": _l("200 million to 1 billion"),
    "gt1b": _l("Over 1 billion"), "le5": _l("Up to 5 years"), "6-10": _l("6 to 10 years"),
    "11-15": _l("11 to 15 years"), "gt15": _l("Over 15 years"),
}

SORT_LABELS = {
    "newest": _l("Newest first"), "amount": _l("Largest amount first"),
    "amount_asc": _l("Smallest amount first"), "tco2e": _l("Most tCO2e avoided first"),
    "tco2e_per_usd": _l("Most tCO2e avoided per USD first"),
    "ticket": _l("Largest ticket first"), "ticket_asc": _l("Smallest ticket first"),
}

FREQUENCIES = {"daily": _l("Daily email"), "weekly": _l("Weekly email"), "never": _l("No email")}

# Which vocabulary of marketplace.labels names the keys of a facet.
_LABEL_KINDS = {"sector": "sector", "instrument": "instrument", "type": "instrument",
                "stage": "stage", "currency": "currency", "region": "region"}


def facet_value_label(facet: str, key: str) -> str:
    """What a facet value is called in the reader's language."""
    if facet == "country":
        return country_name(key)
    if key in BAND_LABELS and facet in ("amount", "ticket", "tenor"):
        return str(BAND_LABELS[key])
    return label(key, _LABEL_KINDS.get(facet))


class SaveSearchForm(FlaskForm):
    """Save the search on screen (its query string travels in a hidden field)."""

    name = StringField(_l("Name of the search"), validators=[DataRequired(), Length(max=120)])
    frequency = SelectField(_l("Email me new matches"), choices=list(FREQUENCIES.items()),
                            default="weekly")
    target = HiddenField(validators=[AnyOf(("needs", "products"))])
    query = HiddenField(validators=[Length(max=4000)])
    submit = SubmitField(_l("Save this search"))
