"""The OpenAPI description and request validation of the API (spectree over pydantic models).

Only views decorated with `spec.validate` are described (mode "strict"); a request that does
not fit its query or body model is answered with a 400 problem document listing what is wrong."""

from __future__ import annotations

import copy

from flask import json
from flask_babel import gettext as _
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData

from marketplace.api.schemas import Problem

DESCRIPTION = (
    "The marketplace's needs, products, suggestions and account for desks' systems. "
    "Authenticate with a personal API key (profile page) sent as `Authorization: Bearer <key>`; "
    "a key can do what its user can do on the site and no more. Errors are RFC 9457 problem "
    "documents whose `type` is stable. Amounts are decimal strings with an ISO 4217 currency; "
    "times are RFC 3339 in UTC; text is UTF-8 both ways."
)
# Problem answers every operation may give (beside its own success model).
ERRORS = {f"HTTP_{status}": Problem for status in (400, 401, 403, 404, 429)}


def _problem_for_invalid_request(request, response, error, instance, model_adapter) -> None:
    """Turn spectree's list of validation errors into a 400 problem document (in place)."""
    if error is None or response is None:
        return
    problems = [
        {"parameter": ".".join(str(p) for p in item.get("loc", ())), "message": item.get("msg")}
        for item in model_adapter.validation_errors(error)
    ]
    body = {
        "type": "/api/v1/problems/invalid-request",
        "title": _("The request's parameters are not valid."),
        "status": 400,
        "detail": "; ".join(f"{p['parameter']}: {p['message']}" for p in problems),
        "errors": problems,
    }
    response.set_data(json.dumps(body))
    response.status_code = 400
    response.mimetype = "application/problem+json"


spec = SpecTree(
    "flask",
    # Plain model names (spectree adds a hash of the module by default): schemas.py names each
    # model once, and a nested model is the same component wherever it appears.
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    title="Green Silk Road Marketplace API",
    version="1.0.0",
    description=DESCRIPTION,
    mode="strict",
    annotations=False,
    validation_error_status=400,
    before=_problem_for_invalid_request,
    security_schemes=[
        SecurityScheme(
            name="apiKey",
            data=SecuritySchemeData(
                type=SecureType.HTTP, scheme="bearer", description="A personal API key"
            ),
        )
    ],
    security={"apiKey": []},
)


def document() -> dict:
    """The OpenAPI document: spectree's, with every problem answer as application/problem+json
    (spectree writes application/json for every model). Built once per process."""
    if not hasattr(document, "cached"):
        built = copy.deepcopy(spec.spec)
        for operations in built["paths"].values():
            for operation in operations.values():
                for code, answer in operation["responses"].items():
                    content = answer.get("content", {})
                    if int(code) >= 400 and "application/json" in content:
                        answer["content"] = {
                            "application/problem+json": content["application/json"]
                        }
        document.cached = built
    return document.cached


def responses(**success) -> Response:
    """The success model(s) of an operation and the problems every operation may answer."""
    return Response(**success, **ERRORS)
