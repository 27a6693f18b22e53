"""Which adapters exist, and the configured sources built from them at start-up.

Built-ins are registered by import path, so they work without installing dsr. Third-party
adapters come from the `dsr.adapters` entry-point group, and only when ADAPTER_ENTRY_POINTS
is on: tests never load whatever happens to be installed.
"""

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator

from dsr.adapters import AdapterConfigError, SourceAdapter
from dsr.categories import Category
from dsr.settings import ConfigError

BUILTINS = {
    "sql": "dsr.adapters.sql:SqlAdapter",
    "csv": "dsr.adapters.csvfiles:CsvAdapter",
    "matomo": "dsr.adapters.matomo:MatomoAdapter",
    "kayako": "dsr.adapters.kayako:KayakoAdapter",
    "whmcs": "dsr.adapters.whmcs:WhmcsAdapter",
    "dsr": "dsr.adapters.own:OwnRecordsAdapter",
}
# dsr's own records about the subject: a source of every instance, under this name.
OWN = "dsr"
OWN_TITLE = "This request service (dsr)"
ENTRY_POINT_GROUP = "dsr.adapters"


class Recipient(BaseModel):
    """Someone the source's data is disclosed to, and the address that is told of each
    rectification (GDPR Art. 19). A recipient given as a plain name has no such address."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    email: EmailStr | None = None


class RegisterEntry(BaseModel):
    """A processing's entry in the register (GDPR Art. 30(1)), quoted in access reports (Art.
    15(1)). What the law requires is required, and nothing that states a fact has a default:
    transfers and automated decisions are declared, even when there are none."""

    model_config = ConfigDict(extra="forbid")

    purposes: list[str] = Field(min_length=1)
    legal_basis: str = Field(min_length=1)
    # Art. 30(1)(c): whose data, and which kinds of it.
    subjects: list[str] = Field(min_length=1)
    categories: list[Category] = Field(min_length=1)
    retention: str = Field(min_length=1)
    # The same as a number of days after a record's date, where it can be put so: the
    # retention report counts the records a source dates before that (dsr/retention).
    retention_days: int | None = Field(default=None, ge=1)
    recipients: list[Recipient] = []
    origin: str = Field(min_length=1)
    # Art. 30(1)(e), 15(2): transfers outside the EEA (or "None outside the EEA.") and, where
    # there are any, the safeguards they rest on.
    transfers: str = Field(min_length=1)
    safeguards: str | None = None
    # Art. 15(1)(h): automated decisions, profiling (or that none are taken).
    automated_decisions: str = Field(min_length=1)
    # Art. 30(1)(g): the technical and organisational security measures, in general terms.
    security: str | None = None

    @field_validator("recipients", mode="before")
    @classmethod
    def _named(cls, value: Any) -> Any:
        """Accept a plain name for a recipient without an address."""
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @property
    def recipient_names(self) -> list[str]:
        """The recipients as the access report names them."""
        return [r.name for r in self.recipients]


class SourceConfig(BaseModel):
    """One source as the instance configuration names it."""

    model_config = ConfigDict(extra="forbid")

    adapter: str
    settings: dict[str, Any] = {}
    # "register" in the configuration; pydantic's BaseModel has a method of that name.
    entry: RegisterEntry = Field(alias="register")
    # Set on a source that knows the customer account (billing): the record kind whose keys
    # are customer numbers. Its findings widen the identity other sources are searched by:
    # the customer numbers, and the IP addresses it saw the account use.
    identifies: str | None = None
    # The system's name as the answer and the console show it ("Billing (WHMCS)"); the
    # source's key when not given.
    title: str | None = Field(default=None, min_length=1, max_length=80)


@dataclass(frozen=True)
class Source:
    """A configured source: its adapter and its processing-register entry."""

    name: str
    adapter: SourceAdapter
    register: RegisterEntry
    identifies: str | None = None
    title: str = ""

    def __post_init__(self) -> None:
        if not self.title:
            object.__setattr__(self, "title", self.name)


def adapter_names(include_installed: bool) -> list[str]:
    """Return the names of the adapters a source may use."""
    names = set(BUILTINS)
    if include_installed:
        names |= {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(names)


def load_factory(adapter: str, include_installed: bool) -> Any:
    """Import the factory of adapter `adapter`; KeyError if no such adapter is known."""
    if adapter in BUILTINS:
        module_name, _, attribute = BUILTINS[adapter].partition(":")
        return getattr(importlib.import_module(module_name), attribute)
    if include_installed:
        for ep in entry_points(group=ENTRY_POINT_GROUP, name=adapter):
            return ep.load()
    raise KeyError(adapter)


def _resolve_secrets(source: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Replace settings written as {"env": "NAME"} with that environment variable's value."""
    resolved = {}
    for key, value in settings.items():
        if isinstance(value, dict) and set(value) == {"env"}:
            if value["env"] not in os.environ:
                raise ConfigError(
                    f"Source {source!r}, setting {key!r}: the environment variable "
                    f"{value['env']} is not set."
                )
            value = os.environ[value["env"]]
        resolved[key] = value
    return resolved


def build_sources(config: Mapping[str, Any], include_installed: bool) -> dict[str, Source]:
    """Validate the SOURCES setting and build each source's adapter; ConfigError names what
    is wrong, source and setting."""
    sources = {}
    for name, raw in config.items():
        try:
            spec = SourceConfig.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join("register" if part == "entry" else str(part)
                             for part in first["loc"])
            raise ConfigError(f"Source {name!r}, setting {where!r}: {first['msg']}.") from None
        try:
            factory = load_factory(spec.adapter, include_installed)
        except KeyError:
            known = ", ".join(adapter_names(include_installed))
            raise ConfigError(
                f"Source {name!r}, setting 'adapter': no adapter {spec.adapter!r} "
                f"(known: {known})."
            ) from None
        try:
            adapter = factory(name, _resolve_secrets(name, spec.settings))
        except AdapterConfigError as error:
            raise ConfigError(f"Source {name!r}: {error}") from None
        sources[name] = Source(name, adapter, spec.entry, spec.identifies, spec.title or name)
    return sources


def with_own_records(config: Mapping[str, Any], register: Mapping[str, Any] | None
                     ) -> dict[str, Any]:
    """The SOURCES setting with dsr's own records as the source "dsr", its register entry
    DSR_REGISTER, unless SOURCES names a source "dsr" itself. Sources without dsr's own entry
    would give answers that leave out what dsr holds: ConfigError says what to set."""
    if OWN in config:
        return dict(config)
    if not register:
        if not config:
            return {}  # nothing is answered from: an instance being set up, say
        raise ConfigError("DSR_REGISTER is not set: dsr's own records about the subject are "
                          "a source of every answer, and need its register entry (see "
                          "README.md, \"Sources\").")
    try:
        RegisterEntry.model_validate(register)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"DSR_REGISTER, setting {where!r}: {first['msg']}.") from None
    return {OWN: {"adapter": "dsr", "title": OWN_TITLE, "register": dict(register)},
            **config}


def sources_for(app: Flask, config: Mapping[str, Any], register: Mapping[str, Any] | None
                ) -> dict[str, Source]:
    """Build the app's sources, dsr's own records among them, and bind to the app each
    adapter that reads it (one with `init_app`)."""
    sources = build_sources(with_own_records(config, register),
                            bool(app.config["ADAPTER_ENTRY_POINTS"]))
    for source in sources.values():
        bind = getattr(source.adapter, "init_app", None)
        if bind is not None:
            bind(app)
    return sources


def configured() -> dict[str, Source]:
    """Return the current app's sources, by name."""
    sources: dict[str, Source] = current_app.extensions["dsr.sources"]
    return sources
