"""Free text from a source (a ticket, a chat) can name other people; their e-mail addresses
are taken out before the text reaches a subject's report (GDPR Art. 15(4))."""

import re

from dsr.adapters import SubjectIdentity

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
REDACTED = "[another person's e-mail address]"


def redact_others(text: str, subject: SubjectIdentity) -> str:
    """Replace every e-mail address in `text` that is not the subject's own."""
    return _EMAIL.sub(
        lambda m: m.group(0) if m.group(0).lower() in subject.emails else REDACTED, text
    )
