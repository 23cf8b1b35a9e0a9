"""The API's description: openapi.json, a reference page served from this site, and the pages
that problem `type`s point at. None of them needs a key."""

from __future__ import annotations

from flask import abort, jsonify, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l

from marketplace.api import bp
from marketplace.api.spec import document as openapi_document

# Every problem `type` the API answers with (its slug is the last part of the URI).
PROBLEM_TYPES = {
    "bad-request": _l("The request could not be understood."),
    "invalid-request": _l(
        "A query parameter or body field is missing or not valid; `errors` lists each one."
    ),
    "missing-key": _l("No `Authorization: Bearer <key>` header was sent."),
    "invalid-key": _l("The key is not one of ours (mistyped, or deleted)."),
    "revoked-key": _l("The key was revoked on its owner's profile page."),
    "inactive-user-key": _l("The key's user has been deactivated: their keys stop at once."),
    "insufficient-scope": _l("The key may only read; this operation changes data."),
    "forbidden": _l("The key's user may not do this on the site either."),
    "not-found": _l("No such record, or one the key's user may not see."),
    "method-not-allowed": _l("The path does not accept this method."),
    "conflict": _l("Someone changed the record first; read it again and retry."),
    "rate-limited": _l("Too many requests with this key; wait for the time in Retry-After."),
    "server-error": _l("An unexpected error on our side; it has been logged."),
    "unavailable": _l("The database cannot be reached just now; retry after a few seconds."),
}


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 description, generated from the views and their models."""
    response = jsonify(openapi_document())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/docs")
def reference():
    """A readable reference built from the same description (no script, no CDN)."""
    document = openapi_document()
    return render_template(
        "api/reference.html",
        document=document,
        operations=_operations(document),
        problems=PROBLEM_TYPES,
    )


@bp.get("/problems/<slug>")
def problem_type(slug: str):
    """Where a problem document's `type` leads: its entry on the reference page."""
    if slug not in PROBLEM_TYPES:
        abort(404)
    return redirect(url_for("api.reference", _anchor=f"problem-{slug}"))


def _operations(document: dict) -> list[dict]:
    """Each path and method with its summary, parameters and answers, in path order."""
    found = []
    for path, methods in sorted(document.get("paths", {}).items()):
        for method, operation in methods.items():
            found.append({"path": path, "method": method.upper(), **operation})
    return found
