"""Forms of the parties: interest, answering an introduction, messages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class InterestForm(FlaskForm):
    need_id = HiddenField()
    product_id = HiddenField()
    own_listing = SelectField(_l("Offer"), coerce=int, validators=[DataRequired()])
    message = TextAreaField(_l("Short message to the broker"), validators=[Length(max=1000)])
    submit = SubmitField(_l("Express interest"))


class RespondForm(FlaskForm):
    answer = SelectField(_l("Your answer"), choices=[("accept", _l("Accept the introduction")),
                                                     ("decline", _l("Decline"))])
    submit = SubmitField(_l("Send answer"))


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[Length(max=5000)])
    attachment = FileField(_l("Attach a document (PDF, XLSX or DOCX)"))
    submit = SubmitField(_l("Send"))


def interest_form_for(user, need_id: int | None = None, product_id: int | None = None):
    """The interest form offering the user's own open listings, or None when it does not apply."""
    from marketplace.i18n import current_locale
    from marketplace.models import Role
    from marketplace.services.interests import own_open_listings

    if not user.is_authenticated or user.role not in (Role.OWNER, Role.INVESTOR):
        return None
    if (user.role == Role.INVESTOR) != bool(need_id):
        return None
    locale = current_locale()
    choices = [(item.id, item.name_for(locale) if user.role == Role.INVESTOR
                else item.title_for(locale)) for item in own_open_listings(user)]
    if not choices:
        return None
    form = InterestForm(need_id=need_id, product_id=product_id)
    form.own_listing.choices = choices
    return form
