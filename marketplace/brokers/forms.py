"""Forms of the broker pages alone (decision forms shared with deal pages: marketplace.forms)."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectMultipleField, ValidationError

from marketplace.forms import DecisionForm
from marketplace.parsing import MAX_RECORD_ID


def record_ids(form, field) -> None:
    """Only ids a database integer column can hold (PostgreSQL refuses larger ones)."""
    if any(not 1 <= ident <= MAX_RECORD_ID for ident in field.data or ()):
        raise ValidationError(_l("Choose matches from the queue."))


class BulkDecisionForm(DecisionForm):
    """The same decision for several matches; a second step confirms it."""

    match_ids = SelectMultipleField(
        _l("Matches"), coerce=int, validate_choice=False, validators=[record_ids]
    )
    confirmed = HiddenField()
    version = HiddenField()
