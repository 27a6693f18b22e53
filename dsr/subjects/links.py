"""Single-use links mailed to people: a payload signed with the app's secret key and a salt of
its own, so that one kind of link never passes for another, and read back only while it lasts.
What makes a link single-use (a nonce or a row that is claimed) stays with what it opens."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Config, current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class LinkRefused(Exception):
    """A link that opens nothing."""


class LinkExpired(LinkRefused):
    """The link was ours, but it is older than its kind may be."""


class LinkInvalid(LinkRefused):
    """The link was not signed by us for this purpose, was cut short, or was altered."""


@dataclass(frozen=True)
class SignedLink:
    """One kind of link: its salt, and its lifetime in seconds read from the configuration
    when a link is read (so that a changed setting applies to links already mailed)."""

    salt: str
    max_age: Callable[[Config], int]

    def issue(self, **payload: object) -> str:
        """Sign `payload` into the token that goes into the link."""
        return self._serializer().dumps(payload)

    def read(self, token: str) -> dict[str, Any]:
        """Return the payload of a token this kind of link issued, or raise LinkExpired or
        LinkInvalid."""
        try:
            data = self._serializer().loads(token, max_age=self.max_age(current_app.config))
        except SignatureExpired:
            raise LinkExpired(self.salt) from None
        except BadSignature:
            raise LinkInvalid(self.salt) from None
        if not isinstance(data, dict):
            raise LinkInvalid(self.salt)
        return data

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(current_app.secret_key or "", salt=self.salt)


def nonce_matches(stored: str | None, sent: object) -> bool:
    """Tell, in constant time, whether a link's nonce is the one still stored (none stored:
    the link was spent)."""
    return bool(stored) and secrets.compare_digest(stored or "", str(sent))


# The salts are those of the links already mailed: changing one voids them all.
CONFIRMATION = SignedLink(
    "dsr.verify", lambda config: int(config["VERIFY_LINK_HOURS"]) * 3600)
"""Confirms a request: proves the requester reads the address given."""

SIGN_IN = SignedLink(
    "dsr.subject-sign-in", lambda config: 60 * int(config["SIGN_IN_LINK_MINUTES"]))
"""Signs a subject in to their requests and answers."""

STOP_CHANGE = SignedLink(
    "dsr.stop-change",
    lambda config: (int(config["EMAIL_CHANGE_COOLING_OFF_HOURS"]) + 24) * 3600)
"""Stops an e-mail change during its cooling-off, and a day's grace for a late reader."""
