"""Local stand-ins for the demo company's WHMCS, Matomo and Kayako servers: small Flask apps
that answer in each product's documented format from the demo databases. The adapters' tests
run against them, and so does `make run`.

Each app reads a few switches from its config, for tests of what goes wrong: DELAY (seconds
before answering), FAIL_NEXT (answer that many requests with HTTP 503) and MALFORMED (answer
with something that is not the product's format).
"""

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response
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
    """Return a before-request hook that applies the app's DELAY, FAIL_NEXT and MALFORMED."""

    def hook() -> Response | None:
        if app.config.get("DELAY"):
            time.sleep(float(app.config["DELAY"]))
        if app.config.get("FAIL_NEXT", 0) > 0:
            app.config["FAIL_NEXT"] -= 1
            return Response("Service Unavailable", status=503)
        if app.config.get("MALFORMED"):
            return Response("<html><body>Bad gateway<br></body></html>", status=200,
                            content_type="application/json")
        return None

    return hook


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
