"""What the HTTP adapters share: one pooled session per adapter, time-outs, retries of
reads with backoff, and errors that say what failed without repeating what was asked."""

import logging
import re
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError
from urllib3.util.retry import Retry

from dsr.adapters import (
    AdapterConfigError,
    SourceAuthFailed,
    SourceReplyInvalid,
    SourceUnavailable,
)


class _NoQueryStrings(logging.Filter):
    """urllib3 logs the URLs it retries; their query strings can hold credentials (Kayako's
    signed GETs) and so must never reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_QUERY.sub("?…", a) if isinstance(a, str) else a
                                for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _QUERY.sub("?…", record.msg)
        return True


_QUERY = re.compile(r"\?[^\s'\"]*")
for _name in ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(_NoQueryStrings())


def _timed_out(error: requests.RequestException) -> bool:
    """Tell a time-out apart from a refused connection (urllib3 wraps a read time-out whose
    retries ran out in a connection error)."""
    if isinstance(error, requests.Timeout):
        return True
    reason = getattr(error.args[0] if error.args else None, "reason", None)
    return isinstance(reason, ReadTimeoutError | ConnectTimeoutError)


class HttpClient:
    """Talk to one HTTP source. Reads are retried (they are idempotent, even when sent as POST
    to keep personal data out of URLs and server logs); writes are sent once."""

    def __init__(self, name: str, settings: Mapping[str, Any]) -> None:
        self.name = name
        self.url = str(settings.get("url") or "")
        if not self.url.startswith(("http://", "https://")):
            raise AdapterConfigError("setting 'url' must be an http:// or https:// address.")
        try:
            self.timeout = float(settings.get("timeout", 10))
            retries = int(settings.get("retries", 2))
        except (TypeError, ValueError):
            raise AdapterConfigError("settings 'timeout' and 'retries' must be numbers.") \
                from None
        self.reads = self._session(Retry(
            total=retries, connect=retries, read=retries, status=retries,
            backoff_factor=float(settings.get("backoff", 0.3)),
            status_forcelist=(429, 502, 503, 504),
            allowed_methods=frozenset({"GET", "POST"}),
            raise_on_status=False,
            respect_retry_after_header=True,
        ))
        self.writes = self._session(Retry(total=0, raise_on_status=False))
        verify = settings.get("verify_tls", True)
        self.reads.verify = self.writes.verify = bool(verify)

    @staticmethod
    def _session(retry: Retry) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=retry)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def send(self, method: str, url: str, *, write: bool = False, **kwargs: Any
             ) -> requests.Response:
        """Send a request; map what went wrong to a SourceError that holds no personal data."""
        session = self.writes if write else self.reads
        try:
            response = session.request(method, url, timeout=self.timeout, **kwargs)
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.RetryError) \
                as error:
            if _timed_out(error):
                raise SourceUnavailable(
                    f"{self.name}: no answer within {self.timeout:g} seconds."
                ) from None
            raise SourceUnavailable(f"{self.name}: cannot connect to the server.") from None
        except requests.RequestException as error:
            raise SourceUnavailable(f"{self.name}: request failed ({type(error).__name__}).") \
                from None
        if response.status_code in (401, 403):
            raise SourceAuthFailed(
                f"{self.name}: the server refused dsr's credentials (HTTP {response.status_code})."
            )
        if response.status_code >= 500 or response.status_code == 429:
            raise SourceUnavailable(
                f"{self.name}: the server answered HTTP {response.status_code}."
            )
        if response.status_code >= 400:
            raise SourceReplyInvalid(
                f"{self.name}: the server answered HTTP {response.status_code}."
            )
        return response

    def json(self, response: requests.Response) -> Any:
        """Decode a JSON reply, or say it was not JSON."""
        try:
            return response.json()
        except ValueError:
            raise SourceReplyInvalid(f"{self.name}: the reply was not valid JSON.") from None
