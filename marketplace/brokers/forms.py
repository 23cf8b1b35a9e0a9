"""Forms of the broker pages alone (decision forms shared with deal pages: marketplace.forms)."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectMultipleField

from marketplace.forms import DecisionForm


class BulkDecisionForm(DecisionForm):
    """The same decision for several matches; a second step confirms it."""

    match_ids = SelectMultipleField(_l("Matches"), coerce=int, validate_choice=False)
    confirmed = HiddenField()
    version = HiddenField()
