"""What request logs must not hold: the single-use tokens in link paths (a confirmation, a
sign-in, a stop link) and the secrets some APIs take only in the query string (Kayako's API
key, salt and signature). A filter cuts them from dsr's own loggers and from those of the
servers and HTTP client it runs with; gunicorn's access log is cut by GunicornLogger
(`gunicorn --logger-class dsr.web.logs.GunicornLogger`)."""

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

# The routes whose last part is a token (a test holds this against the URL map).
TOKEN_PATHS = ("/requests/verify/", "/my/session/", "/corrections/stop/")
_TOKEN = re.compile("(" + "|".join(re.escape(p) for p in TOKEN_PATHS) + r")[^/?#\s\"']+")
_SECRET = re.compile(r"(?i)\b(apikey|api_key|salt|signature|token_auth|secret|password)="
                     r"[^&\s\"']+")
CUT = "[cut]"
LOGGERS = ("werkzeug", "urllib3.connectionpool", "gunicorn.access", "gunicorn.error", "dsr")


def cut(text: str) -> str:
    """`text` without link tokens or query-string secrets."""
    return _SECRET.sub(rf"\1={CUT}", _TOKEN.sub(rf"\1{CUT}", text))


class CutSecrets(logging.Filter):
    """Rewrite a record's message and arguments without tokens or secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = cut(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(cut(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    """Put the filter on every logger that may write a request line (once)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, CutSecrets) for f in logger.filters):
            logger.addFilter(CutSecrets())


class GunicornLogger(Logger):
    """Gunicorn's logger, its access lines without tokens or secrets."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {key: cut(value) if isinstance(value, str) else value
                for key, value in atoms.items()}
