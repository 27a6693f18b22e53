"""The keys the audit trail's hashes are made with: kept outside the database, so that whoever
holds only the database cannot write an event that verifies.

AUDIT_KEYS ({id: secret}, in instance/config.py or DSR_AUDIT_KEYS as JSON) and AUDIT_KEY_FILE
(a file of "id secret" lines, outside the database's disk and backups) are read together; the
last key named signs new events, the others verify the events they signed. To rotate, add a
new key after the others and keep the old ones for as long as their events must verify.
"""

from pathlib import Path

from flask import Flask, current_app

from dsr.settings import ConfigError

MIN_KEY_LENGTH = 32
_KEYS = "dsr.audit.keys"


def load(app: Flask) -> dict[str, bytes]:
    """Read the app's audit keys, in order, oldest first; ConfigError says what is wrong."""
    found: dict[str, str] = dict(app.config.get("AUDIT_KEYS") or {})
    path = app.config.get("AUDIT_KEY_FILE")
    if path:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise ConfigError(f"AUDIT_KEY_FILE {path} cannot be read "
                              f"({type(error).__name__}).") from None
        for number, line in enumerate(lines, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key_id, _, secret = line.strip().partition(" ")
            if not secret.strip():
                raise ConfigError(f"AUDIT_KEY_FILE {path}, line {number}: write "
                                  "'<id> <secret>'.")
            found.pop(key_id, None)  # a key named again moves to the end: it signs
            found[key_id] = secret.strip()
    for key_id, secret in found.items():
        if not key_id.isascii() or not key_id.replace("-", "").replace("_", "").isalnum() \
                or len(key_id) > 32:
            raise ConfigError(f"Audit key id {key_id!r}: use up to 32 letters, digits, - or _.")
        if len(secret) < MIN_KEY_LENGTH:
            raise ConfigError(f"Audit key {key_id!r} is shorter than {MIN_KEY_LENGTH} "
                              "characters: use a long random string (python -c 'import "
                              "secrets; print(secrets.token_hex(32))').")
    if not found and not app.testing:
        raise ConfigError(
            "No audit key: set AUDIT_KEY_FILE to a file outside the database holding "
            "'<id> <secret>' (`make run` writes instance/audit.key), or AUDIT_KEYS. Without "
            "one, whoever holds the database could rewrite the audit trail unnoticed.")
    keys = {key_id: secret.encode() for key_id, secret in found.items()}
    app.extensions[_KEYS] = keys
    return keys


def configured() -> dict[str, bytes]:
    """The current app's audit keys, oldest first."""
    keys: dict[str, bytes] = current_app.extensions[_KEYS]
    return keys


def signing() -> tuple[str, bytes] | None:
    """The key new events are signed with (the last one), if any."""
    keys = configured()
    if not keys:
        return None
    key_id = next(reversed(keys))
    return key_id, keys[key_id]
