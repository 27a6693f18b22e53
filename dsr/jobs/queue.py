"""The queue's storage, chosen by one setting: SQLite in the instance folder (the embedded
default), Redis, or PostgreSQL, for consumers on several machines."""

from pathlib import Path

from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey
from redis import ConnectionPool


class QueueConfigError(ValueError):
    """JOBS_URL names no storage dsr knows."""


def build(url: str | None, instance_path: str) -> Huey:
    """Return a queue on the storage `url` names (unset: instance/jobs.sqlite)."""
    options = {"results": False, "utc": True}
    if not url:
        url = f"sqlite:///{Path(instance_path) / 'jobs.sqlite'}"
    if url.startswith("sqlite:///"):
        # A writer waits for the other (the web process and the consumers share the file).
        return SqliteHuey("dsr", filename=url.removeprefix("sqlite:///"), timeout=30,
                          **options)
    if url.startswith(("redis://", "rediss://", "unix://")):
        # A Redis that hangs must not hang the request handing a job over: time out, and the
        # sweep hands it over later. Longer than the consumer's blocking read (1 s).
        pool = ConnectionPool.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        return RedisHuey("dsr", connection_pool=pool, **options)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresHuey("dsr", dsn=url, **options)
    raise QueueConfigError(
        "JOBS_URL must start with sqlite:///, redis:// or postgresql:// (it is "
        f"{url.split(':', 1)[0]!r}).")
