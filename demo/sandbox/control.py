"""The sandbox's control API, for the demo and the tests: load traffic, read what the brand
sent, inject faults, change the page size."""

from dataclasses import asdict

from demo.sandbox.routes import Request, Response, json_response, route
from demo.sandbox.state import Fault


@route("GET", "/_sandbox/health", platform=None)
def health(request: Request) -> Response:
    sandbox = request.sandbox
    return json_response(
        {
            "ok": True,
            "events": len(request.state.events),
            "url": sandbox.url,
            "maildir": str(sandbox.maildir) if sandbox.maildir else None,
            "smtp_port": sandbox.smtp_port or None,
        }
    )


@route("POST", "/_sandbox/events", platform=None)
def load_events(request: Request) -> Response:
    """Body: sample-format JSON Lines. Query: ``speed`` (0 = all at once, the default)."""
    speed = float(request.arg("speed", "0") or 0)
    added = request.state.load(request.body.splitlines(), speed=speed)
    return json_response({"added": added, "events": len(request.state.events)})


@route("GET", "/_sandbox/outbox", platform=None)
def outbox(request: Request) -> Response:
    """What the brand posted, sent and mailed; ``?platform=x`` narrows it."""
    return json_response([asdict(o) for o in request.state.sent(request.arg("platform"))])


@route("POST", "/_sandbox/faults", platform=None)
def add_fault(request: Request) -> Response:
    """Body: ``{"platform": "x", "kind": "rate_limit", "count": 1, "seconds": 0}``."""
    try:
        request.state.add_fault(Fault(**request.json()))
    except (TypeError, ValueError) as exc:
        return json_response({"error": str(exc)}, 400)
    return json_response({"faults": [asdict(f) for f in request.state.faults]})


@route("POST", "/_sandbox/page-size", platform=None)
def set_page_size(request: Request) -> Response:
    """Body: ``{"page_size": 5}``: how many items a platform page holds at most."""
    request.state.page_size = max(1, int(request.json()["page_size"]))
    return json_response({"page_size": request.state.page_size})
