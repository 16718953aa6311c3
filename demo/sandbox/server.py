"""The sandbox's HTTP server: the platform modules' routes, plus fault injection.

Start one in-process with ``Sandbox(port=0).start()`` (tests, demo) or from the command line
with ``python manage.py sandbox``. It listens on 127.0.0.1 only.
"""

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

# Imported for their ``@route`` decorators, which fill the route table.
from demo.sandbox import control, graph_api, mail, x_api  # noqa: F401
from demo.sandbox.routes import (
    ON_START,
    ON_STOP,
    RATE_LIMITED,
    ROUTES,
    Request,
    Response,
    Route,
    json_response,
)
from demo.sandbox.state import CORE_FAULTS, SandboxState

logger = logging.getLogger(__name__)


class Sandbox:
    """A running sandbox: HTTP on ``url``; mail in ``maildir`` and on ``smtp_port``."""

    def __init__(
        self,
        *,
        port: int = 0,
        state: SandboxState | None = None,
        maildir: Path | None = None,
        smtp_port: int = 0,
    ) -> None:
        self.state = state or SandboxState()
        self.maildir = maildir
        self.smtp_port = smtp_port
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Sandbox":
        for hook in ON_START:
            hook(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="sandbox-http", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        for hook in ON_START:
            hook(self)
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        for hook in ON_STOP:
            hook(self)

    def dispatch(self, request: Request) -> Response:
        for candidate in ROUTES:
            if candidate.method != request.method:
                continue
            match = candidate.pattern.match(request.path)
            if match:
                request.params = match.groupdict()
                return self._serve(candidate, request)
        return json_response(
            {"error": f"The sandbox does not implement {request.method} {request.path}."}, 404
        )

    def _serve(self, route: Route, request: Request) -> Response:
        if route.platform is None:
            return route.handler(request)
        fault = self.state.take_fault(route.platform, CORE_FAULTS)
        if fault is None:
            return route.handler(request)
        if fault.kind == "timeout":
            time.sleep(fault.seconds)
            return route.handler(request)
        if fault.kind == "rate_limit":
            return RATE_LIMITED[route.platform](request, fault.seconds)
        if fault.kind == "server_error":
            return json_response({"error": "Injected server error."}, 500)
        if fault.kind == "lost_answer":
            answer = route.handler(request)
            time.sleep(fault.seconds)
            return answer
        answer = route.handler(request)  # malformed: the real answer, cut in half
        answer.body = answer.body[: len(answer.body) // 2]
        return answer


def _make_handler(sandbox: Sandbox) -> type[BaseHTTPRequestHandler]:
    class SandboxHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as separate writes; with Nagle on, each answer waits ~40 ms.
        disable_nagle_algorithm = True

        def _handle(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=url.path,
                query=parse_qs(url.query, keep_blank_values=True),
                headers=self.headers,
                body=self.rfile.read(length) if length else b"",
                params={},
                sandbox=sandbox,
            )
            try:
                response = sandbox.dispatch(request)
            except Exception as exc:  # the sandbox must answer, whatever a handler did
                logger.exception("Sandbox handler failed for %s %s", self.command, url.path)
                response = json_response({"error": f"Sandbox error: {exc}"}, 500)
            try:
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout fault); nothing left to tell it

        do_GET = do_POST = do_DELETE = do_PUT = _handle

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("sandbox: " + format, *args)

    return SandboxHandler
