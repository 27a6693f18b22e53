"""The OpenAPI 3.1 document of /api/v1, assembled from the pydantic schemas the API validates
with."""

from typing import Any

from flask import current_app
from pydantic import BaseModel

import workflows
from dsr.api import schemas
from dsr.models import STAFF_TYPES


def staff_states() -> list[str]:
    """Every state a request staff handle can be in, in workflow order."""
    found = workflows.load()
    return list(dict.fromkeys(state for kind in STAFF_TYPES for state in found[kind]["states"]))

MODELS: list[type[BaseModel]] = [
    schemas.NewRequest, schemas.Accepted, schemas.TransitionBody, schemas.SourceStatus,
    schemas.FindingOut, schemas.RequestOut, schemas.ErrorOut,
]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": _ref(model)}}}


TEXTS = {400: "Malformed body or parameter", 401: "No valid bearer token",
         403: "The token's account lacks the role", 404: "No such request",
         409: "Not possible from the current state, or changed meanwhile",
         422: "A guard refused (for example a missing reason)",
         429: "Too many requests"}


def _errors(*statuses: int, **texts: str) -> dict[str, Any]:
    said = TEXTS | {int(key.removeprefix("s")): text for key, text in texts.items()}
    return {str(s): {"description": said[s], **_json(schemas.ErrorOut)} for s in statuses}


def document() -> dict[str, Any]:
    """Return the OpenAPI document."""
    reference = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"},
                 "description": "The request's public reference, such as 7GQ4-K2MX-9ZRT-0BHD."}
    staff: list[dict[str, list[str]]] = [{"bearer": []}]
    components: dict[str, Any] = {}
    for model in MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    # As many changes as this instance takes in one request.
    components["NewRequest"]["properties"]["changes"]["maxItems"] = \
        current_app.config["MAX_CHANGES"]
    return {
        "openapi": "3.1.0",
        "info": {"title": "dsr", "version": "1",
                 "description": "Data-subject-rights requests: access, correction, audit."},
        "paths": {
            "/api/v1/requests": {
                "post": {
                    "summary": "Submit a request (public); a confirmation link is e-mailed",
                    "requestBody": {"required": True, **_json(schemas.NewRequest)},
                    "responses": {"202": {"description": "Accepted, whatever the address",
                                          **_json(schemas.Accepted)},
                                  **_errors(400, 422, 429, s422=(
                                      "The body is as documented, but its content cannot be "
                                      "taken: an address that cannot receive mail, a value "
                                      "that is not one of its kind (a telephone number, an "
                                      "IBAN), an e-mail change to the same address"))},
                },
                "get": {
                    "summary": "List requests, soonest due first",
                    "security": staff,
                    "parameters": [
                        {"name": "type", "in": "query", "required": False,
                         "schema": {"type": "string", "enum": list(STAFF_TYPES)}},
                        {"name": "state", "in": "query", "required": False,
                         "schema": {"type": "string", "enum": staff_states()}}],
                    "responses": {"200": {"description": "The requests", "content": {
                        "application/json": {"schema": {
                            "type": "object", "properties": {"requests": {
                                "type": "array", "items": _ref(schemas.RequestOut)}}}}}},
                        **_errors(400, 401, 403)},
                },
            },
            "/api/v1/requests/{id}": {
                "get": {
                    "summary": "One request: state, due date, sources, findings, triggers",
                    "security": staff,
                    "parameters": [reference, {
                        "name": "reveal", "in": "query", "required": False,
                        "schema": {"type": "boolean"},
                        "description": "Show ID and bank details unmasked (audited)."}],
                    "responses": {"200": {"description": "The request",
                                          **_json(schemas.RequestOut)},
                                  **_errors(400, 401, 403, 404)},
                },
            },
            "/api/v1/requests/{id}/transitions": {
                "post": {
                    "summary": "Fire a trigger",
                    "security": staff,
                    "parameters": [reference],
                    "requestBody": {"required": True, **_json(schemas.TransitionBody)},
                    "responses": {"200": {"description": "The new state",
                                          **_json(schemas.RequestOut)},
                                  **_errors(400, 401, 403, 404, 409, 422)},
                },
            },
            "/api/v1/requests/{id}/audit": {
                "get": {
                    "summary": "The request's audit events, oldest first",
                    "security": staff,
                    "parameters": [reference],
                    "responses": {"200": {"description": "The events"},
                                  **_errors(400, 401, 403, 404)},
                },
            },
        },
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "flask tokens create EMAIL"}},
        },
    }
