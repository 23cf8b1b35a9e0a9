"""Friendly, translated error pages (HTML) or JSON for API callers; never a stack trace."""

from flask import Flask, current_app, g, jsonify, make_response, render_template, request, session
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, SecurityError

from marketplace.extensions import db
from marketplace.i18n import locale_from_header

# Seconds a client is asked to wait when the database is down: a restart or a fail-over of
# PostgreSQL takes a few, and the pool (pool_pre_ping) reconnects on the next request.
DATABASE_RETRY_AFTER = 5

MESSAGES = {
    400: (
        _l("Bad request"),
        _l("The request could not be understood. Please check the form and try again."),
    ),
    401: (_l("Authentication required"), _l("Send a valid API key as a bearer token.")),
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
    503: (
        _l("Temporarily unavailable"),
        # Not "nothing was saved": a commit can succeed and its answer still be lost.
        _l(
            "The site cannot reach its database just now. Please try again in a few seconds; "
            "if you were saving a change, check first whether it was saved."
        ),
    ),
}


# RFC 9457 problem types of the JSON API: stable, documented at /api/v1/problems/<slug>.
PROBLEM_TYPES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    429: "rate-limited",
    500: "server-error",
    503: "unavailable",
}
API_PREFIX = "/api/"


def problem_response(status: int, title, detail=None, slug: str | None = None, **extra):
    """An RFC 9457 problem document (application/problem+json) with a stable `type`."""
    slug = slug or PROBLEM_TYPES.get(status, "server-error" if status >= 500 else "bad-request")
    body = {"type": f"/api/v1/problems/{slug}", "title": str(title), "status": status}
    if detail:
        body["detail"] = str(detail)
    response = jsonify(body | extra)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith(("/api/", "/stripe/")) or best == "application/json"


def render_error(code: int, detail: str | None = None):
    """Render the error page (or JSON) for an HTTP status code."""
    title, message = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    if request.path.startswith(API_PREFIX):
        return problem_response(code, title, detail or message)
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
        response = render_error(error.code or 500, detail)
        if error.code == 405 and request.path.startswith(API_PREFIX):
            response.headers["Allow"] = ", ".join(error.valid_methods or ())
        return response

    @app.errorhandler(DBAPIError)
    def handle_database_error(error: DBAPIError):
        if not database_unavailable(error):
            return handle_unexpected(error)
        return database_unavailable_response(app, error)

    @app.teardown_appcontext
    def release_session(_error):
        # Runs before Flask-SQLAlchemy's own removal: when PostgreSQL terminated the connection
        # after the response was built, the ROLLBACK of the clean-up would fail and turn an
        # answered request into a 500 from the server. Drop the dead connection instead.
        try:
            db.session.remove()
        except DBAPIError:
            db.session.invalidate()
            db.session.remove()

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error")
        return render_error(500)


def database_unavailable(error: DBAPIError) -> bool:
    """True when the database could not be reached (down, restarting, connection lost)."""
    return isinstance(error, OperationalError | InterfaceError) or error.connection_invalidated


def database_unavailable_response(app: Flask, error: DBAPIError):
    """A 503 with Retry-After, in the reader's language, built without touching the database."""
    locale = _locale_without_database()
    # Templates read current_user, whose loading (or refreshing, after the rollback) would query
    # the database again: this response is built for an anonymous reader.
    g._login_user = app.login_manager.anonymous_user()
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.close()  # the connection is gone; the pool replaces it on the next request
    # One line, no stack trace: during an outage every request fails the same way.
    app.logger.warning("database unavailable: %s", str(error.orig or error).splitlines()[0])
    with force_locale(locale):
        response = _unavailable_response()
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


def _unavailable_response():
    title, message = MESSAGES[503]
    if request.path.startswith(API_PREFIX):
        return problem_response(503, title, message)
    if wants_json():
        problem = {"type": "about:blank", "title": str(title), "status": 503}
        response = jsonify(**problem, error=str(title), detail=str(message))
        response.mimetype = "application/problem+json"
        response.status_code = 503
        return response
    page = render_template("errors/unavailable.html", title=title, message=message)
    return make_response(page, 503)


def _locale_without_database() -> str:
    """The signed-in user's language if already loaded, else the session's or the browser's."""
    user = g.get("_login_user")
    state = inspect(user, raiseerr=False) if user is not None else None
    chosen = state.dict.get("locale") if state is not None else None
    chosen = chosen or session.get("locale")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    for tag, _quality in request.accept_languages:
        locale = locale_from_header(tag)
        if locale:
            return locale
    return "en"


def _is_custom(error: HTTPException) -> bool:
    """True when the code raised the error with its own reason (not Werkzeug's stock text)."""
    return error.description != type(error).description
