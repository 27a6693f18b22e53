"""The whmcs adapter against the WHMCS stand-in: what goes wrong, and corrections."""

import sqlite3

import pytest

from dsr.adapters import (
    SourceAuthFailed,
    SourceError,
    SourceReplyInvalid,
    SourceUnavailable,
    SubjectIdentity,
)
from dsr.adapters.whmcs import PAGE, WhmcsAdapter
from dsr.categories import Category
from dsr.demo import company
from tests.fixtures.company import identity, whmcs_settings


def adapter(server, **overrides) -> WhmcsAdapter:
    return WhmcsAdapter("billing-api", whmcs_settings(server.url, **overrides))


def test_wrong_credentials_fail_as_an_authentication_error(whmcs_server, company_copy) -> None:
    _, people = company_copy
    wrong = adapter(whmcs_server, secret="not-the-secret")
    with pytest.raises(SourceAuthFailed, match="refused dsr's credentials"):
        wrong.lookup(identity(people[0]))
    health = wrong.check()
    assert not health.ok and "credentials" in health.detail


def test_a_slow_server_times_out_clearly(whmcs_server, company_copy) -> None:
    _, people = company_copy
    whmcs_server.app.config["DELAY"] = 1.0
    with pytest.raises(SourceUnavailable, match=r"no answer within 0\.3 seconds"):
        adapter(whmcs_server, timeout=0.3, retries=0).lookup(identity(people[0]))


def test_a_malformed_reply_is_reported_as_such(whmcs_server, company_copy) -> None:
    _, people = company_copy
    whmcs_server.app.config["MALFORMED"] = True
    with pytest.raises(SourceReplyInvalid, match="not valid JSON"):
        adapter(whmcs_server).lookup(identity(people[0]))


def test_reads_are_retried_past_a_passing_outage(whmcs_server, company_copy) -> None:
    _, people = company_copy
    whmcs_server.app.config["FAIL_NEXT"] = 2
    findings = adapter(whmcs_server, retries=2).lookup(identity(people[0]))
    assert (Category.EMAIL, people[0].email) in {(f.category, f.value) for f in findings}


def test_an_outage_longer_than_the_retries_fails_clearly(whmcs_server, company_copy) -> None:
    _, people = company_copy
    whmcs_server.app.config["FAIL_NEXT"] = 10
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        adapter(whmcs_server, retries=1).lookup(identity(people[0]))


def test_activity_is_read_across_pages(whmcs_server, company_copy) -> None:
    folder, people = company_copy
    me = people[0]
    connection = sqlite3.connect(folder / "billing.sqlite")
    with connection:
        connection.executemany(
            "INSERT INTO tblactivitylog (date, description, user, userid, ipaddr) "
            "VALUES (?, 'Client Login', 'Client', ?, ?)",
            [(f"2026-05-{1 + i % 28:02d} 10:00:00", me.id, f"192.0.2.{1 + i % 200}")
             for i in range(PAGE + 50)],
        )
        connection.execute("INSERT INTO tblactivitylog (date, description, user, userid, ipaddr)"
                           " VALUES ('2026-06-01 09:00:00', 'Note by staff', 'admin', ?, ?)",
                           (me.id, "10.9.9.9"))
    connection.close()
    ips = {f.value for f in adapter(whmcs_server).lookup(identity(me))
           if f.category == Category.IP}
    assert {f"192.0.2.{n}" for n in range(1, 151)} <= ips
    assert "10.9.9.9" not in ips, "a staff member's address is not the subject's"


def test_found_by_customer_number_too(whmcs_server, company_copy) -> None:
    _, people = company_copy
    me = people[company.SHARED_IP_A - 1]
    findings = adapter(whmcs_server).lookup(
        SubjectIdentity.of("old-address@example.net", customer_ids=[str(me.id)]))
    assert (Category.EMAIL, me.email) in {(f.category, f.value) for f in findings}


def test_a_correction_is_written_with_update_client(whmcs_server, company_copy) -> None:
    _, people = company_copy
    me = people[2]
    whmcs = adapter(whmcs_server)
    city = next(f for f in whmcs.lookup(identity(me)) if f.record.field == "city")
    whmcs.correct(city.record, {Category.ADDRESS: "Utrecht"})
    again = next(f for f in whmcs.lookup(identity(me)) if f.record.field == "city")
    assert again.value == "Utrecht"


def test_a_correction_to_a_missing_client_fails_clearly(whmcs_server, company_copy) -> None:
    _, people = company_copy
    whmcs = adapter(whmcs_server)
    ref = next(f for f in whmcs.lookup(identity(people[0])) if f.record.field == "city").record
    ghost = type(ref)(ref.source, ref.kind, "999999", ref.field)
    with pytest.raises(SourceError, match="UpdateClient failed: Client ID Not Found"):
        whmcs.correct(ghost, {Category.ADDRESS: "Utrecht"})
    with pytest.raises(SourceError, match="no single writable field"):
        whmcs.correct(ref, {Category.PHONE: "+31 20 000 0000"})


def test_writes_are_not_retried(whmcs_server, company_copy) -> None:
    _, people = company_copy
    whmcs = adapter(whmcs_server, retries=3)
    ref = next(f for f in whmcs.lookup(identity(people[0])) if f.record.field == "city").record
    whmcs_server.app.config["FAIL_NEXT"] = 1
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        whmcs.correct(ref, {Category.ADDRESS: "Utrecht"})
    assert whmcs_server.app.config["FAIL_NEXT"] == 0
