"""Absolute links for e-mails, built on the configured SITE_URL, never on the request's Host."""

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    """The absolute address of a page, e.g. for a password-reset or introduction e-mail."""
    return current_app.config["SITE_URL"].rstrip("/") + url_for(endpoint, **values)
