"""Local stand-ins for the demo company's WHMCS, Matomo and Kayako servers: small Flask apps
that answer in each product's documented format from the demo databases. The adapters' tests
run against them, and so does `make run`.

Each app reads a few switches from its config, for tests of what goes wrong: DELAY (seconds
before answering), DELAYS (seconds before answering one call, by its action or path),
FAIL_NEXT (answer that many requests with HTTP 503) and MALFORMED (answer with something that
is not the product's format); and counts the calls it was asked (CALLS) and answered
(ANSWERED), by action or path.
"""

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from werkzeug.serving import BaseWSGIServer, make_server


def query(database: Path, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Read rows of a demo database as dictionaries."""
    connection = sqlite3.connect(database)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute(sql, params)]
    finally:
        connection.close()


def misbehave(app: Flask) -> Callable[[], Response | None]:
    """Return a before-request hook that counts the call and applies the app's DELAY,
    DELAYS, FAIL_NEXT and MALFORMED; and count each answer once it is sent."""
    calls, answered = app.config.setdefault("CALLS", Counter()), \
        app.config.setdefault("ANSWERED", Counter())

    @app.after_request
    def count(response: Response) -> Response:
        answered[_call()] += 1
        return response

    def hook() -> Response | None:
        calls[_call()] += 1
        delay = app.config.get("DELAY") or app.config.get("DELAYS", {}).get(_call())
        if delay:
            time.sleep(float(delay))
        if app.config.get("FAIL_NEXT", 0) > 0:
            app.config["FAIL_NEXT"] -= 1
            return Response("Service Unavailable", status=503)
        if app.config.get("MALFORMED"):
            return Response("<html><body>Bad gateway<br></body></html>", status=200,
                            content_type="application/json")
        return None

    return hook


def _call() -> str:
    """What a request asks for: its API action, or else its path."""
    return request.values.get("action") or request.path


@dataclass
class Running:
    """A stand-in served on 127.0.0.1 in a background thread."""

    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


def serve(app: Flask, port: int = 0, **options: Any) -> Running:
    """Serve `app` on 127.0.0.1 (a free port unless given) until stop()."""
    server = make_server("127.0.0.1", port, app, threaded=True, **options)
    # A short poll interval lets stop() return quickly; the stand-ins are small and local.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return Running(app, server, thread)
