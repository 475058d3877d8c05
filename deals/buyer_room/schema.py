"""OpenAPI entries for the buyer's own endpoints under /buyer/<token>/.

They are HTML pages and form posts (CSRF-protected, no staff API auth), so DRF does not
describe them; this drf-spectacular postprocessing hook adds them and the token scheme.
"""

from __future__ import annotations

from typing import Any

TOKEN_SCHEME = {
    "type": "apiKey",
    "in": "query",
    "name": "token",
    "description": (
        "Buyer-room link token, carried in the path: /buyer/{token}/. 256 random bits "
        "(URL-safe base64, 43 characters) stored only as a SHA-256 hash; one deal for one "
        "contact; expires after the policy's `buyer_room_link_days` (60), revocable. An "
        "unknown, expired or revoked token answers the same 404. Rate-limited per IP (429)."
    ),
}

_TOKEN = {
    "name": "token",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 40, "maxLength": 64},
    "description": "The token of the buyer's private link.",
}


def _id(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
        "description": f"Id of the {name.removesuffix('_id')}; one of the room's deal.",
    }


def _form(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {"csrfmiddlewaretoken": {"type": "string"}, **properties},
        "required": ["csrfmiddlewaretoken", *required],
        "additionalProperties": False,
    }
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


_YES_NO = {"type": "string", "enum": ["yes", "no"]}
_IMPORTANCE = {"type": "integer", "minimum": 1, "maximum": 5}
_POST_RESPONSES = {
    "302": {"description": "Done; back to the room."},
    "400": {"description": "A field is invalid, or a field the room does not offer was sent."},
    "403": {"description": "CSRF failure, or the room is read-only (closed deal)."},
    "404": {"description": "Unknown, expired or revoked link (the same page for each)."},
    "429": {"description": "Too many requests from this address."},
}

ENDPOINTS: list[tuple[str, list[dict], str, dict | None]] = [
    ("/buyer/{token}/needs/{need_id}/confirm/", [_id("need_id")], "Confirm a need", _form({}, [])),
    (
        "/buyer/{token}/needs/{need_id}/change/",
        [_id("need_id")],
        "Correct a need's wording or importance (also confirms it)",
        _form(
            {"statement": {"type": "string"}, "importance": _IMPORTANCE},
            ["statement", "importance"],
        ),
    ),
    (
        "/buyer/{token}/needs/add/",
        [],
        "Add a need",
        _form(
            {
                "statement": {"type": "string"},
                "importance": _IMPORTANCE,
                "kind": {"type": "string", "enum": ["goal", "problem", "interest", "dream"]},
            },
            ["statement", "importance", "kind"],
        ),
    ),
    (
        "/buyer/{token}/milestones/{milestone_id}/tick/",
        [_id("milestone_id")],
        "Tick (or untick) one of the buyer's own milestones",
        _form({"done": _YES_NO}, ["done"]),
    ),
    (
        "/buyer/{token}/milestones/{milestone_id}/date/",
        [_id("milestone_id")],
        "Propose a new date for a milestone",
        _form({"proposed_date": {"type": "string", "format": "date"}}, ["proposed_date"]),
    ),
    (
        "/buyer/{token}/question/",
        [],
        "Ask the rep a question",
        _form({"question": {"type": "string"}}, ["question"]),
    ),
    (
        "/buyer/{token}/pulse/{meeting_id}/",
        [_id("meeting_id")],
        "Answer the pulse after a meeting (felt_pushed=yes raises BUYER_REPORTED_PRESSURE)",
        _form(
            {"got_what_needed": _YES_NO, "felt_pushed": _YES_NO, "next_step_agreed": _YES_NO},
            ["got_what_needed", "felt_pushed", "next_step_agreed"],
        ),
    ),
    (
        "/buyer/{token}/check-in/",
        [],
        "Answer a post-close check-in: need_<id>=1..5 per need sold, promise_<id>=yes|no",
        {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "csrfmiddlewaretoken": {"type": "string"},
                            "comment": {"type": "string"},
                        },
                        # need_<id>: 1..5, promise_<id>: yes|no
                        "additionalProperties": {"type": "string"},
                    }
                }
            },
        },
    ),
]


def add_buyer_room_paths(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    components = result.setdefault("components", {})
    components.setdefault("securitySchemes", {})["buyerRoomToken"] = TOKEN_SCHEME
    paths = result.setdefault("paths", {})
    security: list[dict[str, list[str]]] = [{"buyerRoomToken": []}]
    paths["/buyer/{token}/"] = {
        "get": {
            "operationId": "buyer_room_page",
            "summary": "The buyer room (HTML, in the deal's language)",
            "tags": ["buyer-room"],
            "parameters": [_TOKEN],
            "security": security,
            "responses": {
                "200": {"description": "The room.", "content": {"text/html": {}}},
                "404": _POST_RESPONSES["404"],
                "429": _POST_RESPONSES["429"],
            },
        }
    }
    for path, params, summary, body in ENDPOINTS:
        operation_id = "buyer_room_" + path.split("{token}/")[1].strip("/").replace("/", "_")
        operation_id = operation_id.replace("{", "").replace("}", "").replace("-", "_")
        paths[path] = {
            "post": {
                "operationId": operation_id,
                "summary": summary,
                "tags": ["buyer-room"],
                "parameters": [_TOKEN, *params],
                "security": security,
                "requestBody": body,
                "responses": _POST_RESPONSES,
            }
        }
    return result
