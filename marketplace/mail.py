"""Outgoing mail: SMTP when configured, otherwise .eml files in the outbox folder.

Every message is rendered when it is asked for (in the recipient's language) and sent by the
background job `mail.send`, so a mail server that fails is retried with back-off, and a message
asked for by a write that rolls back is never sent.
"""

import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale

from marketplace.jobs import enqueue, task
from marketplace.models import BackgroundJob


class Mailer:
    """Send one message; the transport is chosen by configuration."""

    def __init__(self, config):
        self.config = config

    def send(self, to: str, subject: str, body: str, message_id: str | None = None) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.config["MAIL_DEFAULT_SENDER"]
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = message_id or f"<{uuid.uuid4()}@greensilkroad>"
        message.set_content(body)
        if self.config.get("MAIL_SERVER"):
            self._send_smtp(message)
        else:
            self._write_outbox(message)
        return message

    def _send_smtp(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.config["MAIL_SERVER"], self.config["MAIL_PORT"], timeout=30) as smtp:
            if self.config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if self.config.get("MAIL_USERNAME"):
                smtp.login(self.config["MAIL_USERNAME"], self.config["MAIL_PASSWORD"])
            smtp.send_message(message)

    def _write_outbox(self, message: EmailMessage) -> None:
        outbox = Path(self.config["MAIL_OUTBOX_DIR"])
        outbox.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex}.eml"
        (outbox / name).write_bytes(bytes(message))
        current_app.logger.info(
            "mail written to outbox",
            extra={
                "extra_fields": {"to": message["To"], "subject": message["Subject"], "file": name}
            },
        )


def send_template(to: str, locale: str, subject, template: str, **context) -> BackgroundJob:
    """Render templates/email/<template>.txt in the recipient's language; send it after commit."""
    with force_locale(locale):
        body = render_template(f"email/{template}.txt", **context)
        subject_text = str(subject)
    payload = {
        "to": to,
        "subject": subject_text,
        "body": body,
        # Fixed now, so a retried delivery is recognisably the same message.
        "message_id": f"<{uuid.uuid4()}@greensilkroad>",
    }
    return enqueue("mail.send", payload)


@task("mail.send", max_attempts=8, backoff_base=30, backoff_max=3600, forget_payload=True)
def send_message(to: str, subject: str, body: str, message_id: str) -> dict:
    """Hand one rendered message to the mail server (raises, and is retried, when it fails)."""
    Mailer(current_app.config).send(to, subject, body, message_id)
    return {"to": to, "subject": subject}
