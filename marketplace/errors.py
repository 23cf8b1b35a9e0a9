"""Friendly, translated error pages (HTML) or JSON for API callers; never a stack trace."""

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, SecurityError

from marketplace.extensions import db

MESSAGES = {
    400: (
        _l("Bad request"),
        _l("The request could not be understood. Please check the form and try again."),
    ),
    403: (_l("Not allowed"), _l("Your account does not have access to this page.")),
    404: (
        _l("Page not found"),
        _l("We could not find that page. It may have been moved or withdrawn."),
    ),
    405: (_l("Not allowed"), _l("This page does not accept that kind of request.")),
    409: (
        _l("Conflict"),
        _l("Someone else changed this record first. Reload the page and try again."),
    ),
    413: (_l("File too large"), _l("The upload is larger than the site accepts.")),
    429: (_l("Too many attempts"), _l("Please wait a few minutes before trying again.")),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error occurred. It has been logged and we will look into it."),
    ),
}


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith(("/api/", "/stripe/")) or best == "application/json"


def render_error(code: int, detail: str | None = None):
    """Render the error page (or JSON) for an HTTP status code."""
    title, message = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    if wants_json():
        return jsonify(error=str(title), detail=detail or str(message)), code
    return render_template(
        "errors/error.html", code=code, title=title, message=message, detail=detail
    ), code


def register(app: Flask) -> None:
    @app.errorhandler(SecurityError)
    def handle_untrusted_host(error: SecurityError):
        # No page of ours can be built for a host we do not serve (TRUSTED_HOSTS): plain text.
        return "Bad request: unknown host.", 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        detail = error.description if error.code in (400, 409) and _is_custom(error) else None
        if error.code == 413:
            detail = str(_l("The file is larger than %(mb)d MB.", mb=app.config["MAX_UPLOAD_MB"]))
        return render_error(error.code or 500, detail)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error")
        return render_error(500)


def _is_custom(error: HTTPException) -> bool:
    """True when the code raised the error with its own reason (not Werkzeug's stock text)."""
    return error.description != type(error).description
