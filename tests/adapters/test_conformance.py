"""The adapter contract, executable: every adapter, built-in or third-party, passes these."""

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from flask import Flask

from dsr import create_app
from dsr.adapters import (
    CorrectableAdapter,
    Finding,
    Health,
    SourceAdapter,
    SourceError,
    SubjectIdentity,
)
from dsr.adapters.own import OwnRecordsAdapter
from dsr.adapters.redaction import Redaction
from dsr.adapters.registry import BUILTINS, OWN, configured, load_factory
from dsr.categories import Category
from dsr.extensions import db
from dsr.subjects import intake
from tests.fixtures.company import DEMO_REGISTER, AdapterCase
from tests.fixtures.databases import app_on, config_for

# Each case and the adapter it exercises; every built-in must have at least one.
CASES = {
    "sql_billing_case": "sql",
    "sql_billing_postgres_case": "sql",
    "sql_chats_case": "sql",
    "csv_billing_case": "csv",
    "sql_fides_case": "sql",
    "sql_fides_postgres_case": "sql",
    "csv_fides_case": "csv",
    "whmcs_case": "whmcs",
    "matomo_case": "matomo",
    "kayako_case": "kayako",
    "example_case": "newsletter",
    "own_case": "dsr",
}


@pytest.fixture
def own_records_app(sqlite_url: str) -> Iterator[Flask]:
    """An app that declares dsr's own register entry, so that dsr is one of its sources."""
    yield from app_on(sqlite_url, DSR_REGISTER=DEMO_REGISTER)


@pytest.fixture
def own_case(own_records_app: Flask, tmp_path: Path) -> AdapterCase:
    """dsr's own records: Rosa's access request, beside Otto's."""
    intake.submit("access", "otto@example.com", "Otto Other", "Otto's own words", None)
    intake.submit("access", "rosa@example.com", "Rosa Roth", "Rosa's words", None)
    db.session.commit()
    unreachable = config_for(f"sqlite:///{tmp_path / 'no-such-folder' / 'dsr.sqlite'}")

    def broken() -> SourceAdapter:
        adapter = OwnRecordsAdapter(OWN, {})
        adapter.init_app(create_app(unreachable))
        return adapter

    return AdapterCase(
        adapter=configured()[OWN].adapter, subject=SubjectIdentity.of("rosa@example.com"),
        expected={(Category.MESSAGE, "Rosa's words")},
        foreign={"otto@example.com", "Otto's own words"}, broken=broken)


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> AdapterCase:
    case: AdapterCase = request.getfixturevalue(request.param)
    case.extra["adapter"] = CASES[request.param]
    return case


def test_every_builtin_adapter_has_a_conformance_case() -> None:
    assert set(BUILTINS) <= set(CASES.values())


def test_is_a_source_adapter(case: AdapterCase) -> None:
    assert isinstance(case.adapter, SourceAdapter)
    assert isinstance(case.adapter.name, str) and case.adapter.name
    factory = load_factory(case.extra["adapter"], include_installed=True)
    assert isinstance(case.adapter, factory)


def test_lookup_finds_what_the_source_holds_on_the_subject(case: AdapterCase) -> None:
    findings = list(case.adapter.lookup(case.subject))
    found = {(f.category, f.value) for f in findings}
    assert case.expected <= found, f"missing: {case.expected - found}"


def test_every_finding_is_well_formed(case: AdapterCase) -> None:
    findings = list(case.adapter.lookup(case.subject))
    assert findings
    for finding in findings:
        assert isinstance(finding, Finding)
        assert isinstance(finding.category, Category)
        assert finding.label.strip()
        assert isinstance(finding.value, str) and finding.value.strip()
        assert finding.source == case.adapter.name == finding.record.source
        assert finding.record.kind and finding.record.key
        assert isinstance(finding.context, Mapping)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in finding.context.items())
        if finding.category.is_activity:
            assert finding.record.field == ""


def test_lookup_never_returns_another_persons_data(case: AdapterCase) -> None:
    # As collection stores it: other people are taken out of every source's free text by one
    # mechanism (dsr.adapters.redaction), not by each adapter.
    found = list(case.adapter.lookup(case.subject))
    redaction = Redaction.beside(case.subject, [(f.category, f.value) for f in found])
    texts = [
        text
        for f in map(redaction.finding, found)
        for text in (f.value, *f.context.values())
    ]
    leaked = {value for value in case.foreign for text in texts if value in text}
    assert leaked == set()


def test_an_unknown_subject_has_no_findings(case: AdapterCase) -> None:
    stranger = SubjectIdentity.of("nobody-at-all@example.net", customer_ids=["999999"],
                                  phones=["+1 555 0100"], ips=["100.64.0.254"])
    assert list(case.adapter.lookup(stranger)) == []


def test_an_empty_identity_finds_nothing(case: AdapterCase) -> None:
    assert list(case.adapter.lookup(SubjectIdentity(emails=frozenset()))) == []


def test_lookup_is_repeatable(case: AdapterCase) -> None:
    assert list(case.adapter.lookup(case.subject)) == list(case.adapter.lookup(case.subject))


def test_check_reports_a_healthy_source(case: AdapterCase) -> None:
    health = case.adapter.check()
    assert isinstance(health, Health)
    assert health.ok, health.detail


def test_a_broken_source_fails_clearly_without_personal_data(case: AdapterCase) -> None:
    broken = case.broken()
    health = broken.check()
    assert not health.ok and health.detail
    with pytest.raises(SourceError) as failure:
        list(broken.lookup(case.subject))
    message = str(failure.value)
    assert message
    assert not any(email in message for email in case.subject.emails)


def test_correct_writes_back_or_the_adapter_is_read_only(case: AdapterCase) -> None:
    if case.correction is None:
        # Read-only: no correct() at all, or one that refuses every change clearly.
        if isinstance(case.adapter, CorrectableAdapter):
            finding = next(iter(case.adapter.lookup(case.subject)))
            with pytest.raises(SourceError, match="no single writable"):
                case.adapter.correct(finding.record, {finding.category: "changed"})
        return
    assert isinstance(case.adapter, CorrectableAdapter)
    category, old, new = case.correction
    target = next(
        f for f in case.adapter.lookup(case.subject) if (f.category, f.value) == (category, old)
    )
    case.adapter.correct(target.record, {category: new})
    reread = [f for f in case.adapter.lookup(case.subject) if f.record == target.record]
    assert [f.value for f in reread] == [new]


def test_every_builtin_adapter_is_documented() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert all(f"| `{name}` |" in readme for name in BUILTINS)
