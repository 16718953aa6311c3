"""The error body (``api.errors``) in the OpenAPI schema, as a possible answer of every
operation, so clients and the schema tests know its shape."""

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "For invalid input: each field's problems.",
                },
            },
        }
    },
}
ERRORS = {
    "400": "Invalid input, or the action was refused (the message says why).",
    "401": "No valid token or session.",
    "403": "The user's role does not allow it.",
    "404": "No such record, or not one the user may see.",
    "409": "In conflict with the record as it is: someone else holds the case, a name is taken.",
    "429": "Too many requests; wait the seconds in Retry-After.",
}


def add_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    result["components"].setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            for code, description in ERRORS.items():
                operation["responses"].setdefault(
                    code, {"description": description, "content": ref}
                )
    return result
