"""The JSON API v1 for desks' systems and CRMs: the same services as the pages, read with a
personal API key sent as a bearer token; errors are RFC 9457 problem documents; the OpenAPI 3.1
description at /api/v1/openapi.json is generated from the views' pydantic models (spectree)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from marketplace.api import auth, docs, limits, routes  # noqa: E402,F401  (registers on bp)
