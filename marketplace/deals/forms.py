"""Forms of the parties: interest, answering an introduction, messages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import Length


class RespondForm(FlaskForm):
    answer = SelectField(
        _l("Your answer"),
        choices=[("accept", _l("Accept the introduction")), ("decline", _l("Decline"))],
    )
    submit = SubmitField(_l("Send answer"))


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[Length(max=5000)])
    attachment = FileField(_l("Attach a document (PDF, XLSX or DOCX)"))
    submit = SubmitField(_l("Send"))
