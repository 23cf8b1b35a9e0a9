"""The save-search form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import AnyOf, DataRequired, Length

from marketplace.labels import FREQUENCIES


class SaveSearchForm(FlaskForm):
    """Save the search on screen (its query string travels in a hidden field)."""

    name = StringField(_l("Name of the search"), validators=[DataRequired(), Length(max=120)])
    frequency = SelectField(
        _l("Email me new matches"), choices=list(FREQUENCIES.items()), default="weekly"
    )
    target = HiddenField(validators=[AnyOf(("needs", "products"))])
    query = HiddenField(validators=[Length(max=4000)])
    submit = SubmitField(_l("Save this search"))
