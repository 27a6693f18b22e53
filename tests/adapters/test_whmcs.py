"""The whmcs adapter against the WHMCS stand-in: what it reads, what goes wrong, and
corrections."""

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from dsr.adapters import (
    Finding,
    SourceAuthFailed,
    SourceError,
    SourceNotWritable,
    SourceReplyInvalid,
    SourceUnavailable,
    SubjectIdentity,
)
from dsr.adapters import whmcs as whmcs_module
from dsr.adapters.whmcs import PAGE, WhmcsAdapter
from dsr.categories import Category
from dsr.demo import company
from dsr.demo.standins import query
from tests.fixtures.company import identity, whmcs_settings

WITH_BANK_ACCOUNT = 6  # customers whose number is divisible by 3 pay by bank account
WITH_CARD = 5
BOUGHT_NOTHING = 4


def adapter(server, **overrides) -> WhmcsAdapter:
    return WhmcsAdapter("billing-api", whmcs_settings(server.url, **overrides))


def billing(folder: Path, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Rows of the demo billing database the stand-in answers from."""
    return query(folder / "billing.sqlite", sql, *params)


def of(findings: list[Finding], category: Category) -> list[Finding]:
    return [f for f in findings if f.category == category]


def test_a_customer_with_a_bank_account_gets_everything_billing_holds(
        whmcs_server, company_copy) -> None:
    folder, people = company_copy
    me = people[WITH_BANK_ACCOUNT - 1]
    findings = adapter(whmcs_server).lookup(identity(me))

    [account] = billing(folder, "SELECT * FROM tblbankaccts WHERE userid = ?", me.id)
    assert {(f.label, f.value) for f in of(findings, Category.BANK_DETAILS)} == {
        ("Bank", account["bank_name"]), ("Account holder", f"{me.first} {me.last}"),
        ("Bank account number or IBAN", account["iban"])}

    invoices = billing(folder, "SELECT * FROM tblinvoices WHERE userid = ? ORDER BY id", me.id)
    assert invoices
    assert [(f.context["number"], f.context["date"], f.context["due"], f.context["status"],
             f.context["total"]) for f in of(findings, Category.INVOICE)] == [
        (i["invoicenum"], i["date"], i["duedate"], i["status"], f"{i['total']} EUR")
        for i in invoices]
    first = of(findings, Category.INVOICE)[0]
    assert first.value == f"Invoice {invoices[0]['invoicenum']} of {invoices[0]['date']}"
    items = billing(folder, "SELECT description, amount FROM tblinvoiceitems "
                            "WHERE invoiceid = ? ORDER BY id", invoices[0]["id"])
    assert first.context["items"].splitlines() == [
        f"{i['description']}: {i['amount']}" for i in items]

    services = billing(folder, "SELECT h.*, p.name FROM tblhosting h JOIN tblproducts p "
                               "ON p.id = h.packageid WHERE userid = ? ORDER BY h.id", me.id)
    [domain] = billing(folder, "SELECT * FROM tbldomains WHERE userid = ?", me.id)
    orders = of(findings, Category.ORDER)
    assert [(f.label, f.value, f.context["domain"], f.context["registered"],
             f.context["next_due"], f.context["status"]) for f in orders[:-1]] == [
        ("Product or service", s["name"], s["domain"], s["regdate"], s["nextduedate"],
         "Active") for s in services]
    assert orders[-1].label == "Domain registration"
    assert (orders[-1].value, orders[-1].context["expires"]) == (domain["domain"],
                                                               domain["expirydate"])
    assert orders[0].context["amount"] == f"{services[0]['amount']} (Monthly)"

    sent = billing(folder, "SELECT subject, date FROM tblemails WHERE userid = ? ORDER BY id",
                   me.id)
    messages = of(findings, Category.MESSAGE)
    assert [(f.value, f.context["date"]) for f in messages] == [
        (e["subject"], e["date"]) for e in sent]
    assert messages[0].context["message"].startswith(f"Dear {me.first},\n")
    assert "<p>" not in messages[0].context["message"], "the text a person reads, not HTML"

    [ticket] = billing(folder, "SELECT t.*, d.name AS department FROM tbltickets t JOIN "
                               "tblticketdepartments d ON d.id = t.did WHERE userid = ?", me.id)
    [found] = of(findings, Category.TICKET)
    assert (found.value, found.context["ticket"], found.context["opened"],
            found.context["status"], found.context["department"]) == (
        ticket["title"], ticket["tid"], ticket["date"], ticket["status"], ticket["department"])


def test_a_card_is_read_as_bank_details(whmcs_server, company_copy) -> None:
    folder, people = company_copy
    me = people[WITH_CARD - 1]
    [card] = billing(folder, "SELECT * FROM tblcreditcards WHERE userid = ?", me.id)
    findings = adapter(whmcs_server).lookup(identity(me))
    assert {(f.label, f.value) for f in of(findings, Category.BANK_DETAILS)} == {
        ("Card type", card["card_type"]), ("Card number, last four digits", card["last_four"]),
        ("Card expiry date", card["expiry_date"])}
    assert of(findings, Category.INVOICE) and of(findings, Category.ORDER)


def test_a_customer_who_bought_nothing_gets_no_billing_records(whmcs_server,
                                                               company_copy) -> None:
    _, people = company_copy
    me = people[BOUGHT_NOTHING - 1]
    whmcs = adapter(whmcs_server)
    for action, listing in (("GetInvoices", "invoices"), ("GetClientsDomains", "domains"),
                            ("GetEmails", "emails"), ("GetTickets", "tickets")):
        key = "userid" if action == "GetInvoices" else "clientid"
        assert whmcs.call(action, {key: str(me.id)})[listing] == "", "WHMCS's empty list"
    findings = whmcs.lookup(identity(me))
    assert (Category.EMAIL, me.email) in {(f.category, f.value) for f in findings}
    assert {f.category for f in findings} & {
        Category.BANK_DETAILS, Category.INVOICE, Category.ORDER, Category.MESSAGE,
        Category.TICKET} == set()


def test_pay_methods_given_as_an_empty_string_are_none(whmcs_server, company_copy) -> None:
    _, people = company_copy
    me = people[WITH_BANK_ACCOUNT - 1]
    whmcs_server.app.config["REPLIES"] = {
        "GetPayMethods": {"result": "success", "clientid": str(me.id), "paymethods": ""}}
    findings = adapter(whmcs_server).lookup(identity(me))
    assert of(findings, Category.BANK_DETAILS) == []
    assert of(findings, Category.INVOICE), "the rest is still read"


def test_listings_are_read_across_pages(whmcs_server, company_copy, monkeypatch) -> None:
    folder, people = company_copy
    me = people[WITH_BANK_ACCOUNT - 1]
    connection = sqlite3.connect(folder / "billing.sqlite")
    with connection:
        connection.executemany(
            'INSERT INTO tblemails (userid, subject, message, date, "to", cc, bcc) '
            "VALUES (?, ?, '<p>Reminder</p>', '2026-09-01 08:00:00', ?, '', '')",
            [(me.id, f"Payment reminder {n}", me.email) for n in range(5)])
    connection.close()
    monkeypatch.setattr(whmcs_module, "PAGE", 2)
    findings = adapter(whmcs_server).lookup(identity(me))
    calls = whmcs_server.app.config["CALLS"]
    sent = billing(folder, "SELECT subject FROM tblemails WHERE userid = ? ORDER BY id", me.id)
    assert [f.value for f in of(findings, Category.MESSAGE)] == [e["subject"] for e in sent]
    assert calls["GetEmails"] == -(-len(sent) // 2), "one call a page"
    invoices = billing(folder, "SELECT id FROM tblinvoices WHERE userid = ?", me.id)
    assert len(of(findings, Category.INVOICE)) == len(invoices)


def test_another_clients_rows_never_appear(whmcs_server, company_copy) -> None:
    folder, people = company_copy
    me, other = people[WITH_BANK_ACCOUNT - 1], people[WITH_BANK_ACCOUNT + 2]
    findings = adapter(whmcs_server).lookup(identity(me))
    for category, table in ((Category.INVOICE, "tblinvoices"), (Category.MESSAGE, "tblemails"),
                            (Category.TICKET, "tbltickets")):
        mine = billing(folder, f"SELECT id FROM {table} WHERE userid = ?", me.id)
        assert sorted(f.record.key for f in of(findings, category)) == sorted(
            str(r["id"]) for r in mine)
    theirs = billing(folder, "SELECT domain FROM tbldomains WHERE userid = ?", other.id)
    assert theirs and not {d["domain"] for d in theirs} & {f.value for f in findings}

    # A portal that answers with another client's service too: it is left out.
    whmcs_server.app.config["REPLIES"] = {"GetClientsProducts": {
        "result": "success", "totalresults": 2, "products": {"product": [
            {"id": 1, "clientid": me.id, "name": "VPS S", "status": "Active"},
            {"id": 2, "clientid": other.id, "name": "Someone else's VPS"}]}}}
    values = {f.value for f in of(adapter(whmcs_server).lookup(identity(me)), Category.ORDER)}
    assert "VPS S" in values and "Someone else's VPS" not in values


@pytest.mark.parametrize(("action", "reply", "complaint"), [
    ("GetInvoices", {"totalresults": 1, "invoices": {"invoice": "INV-1"}}, "malformed list"),
    ("GetClientsDomains", {"totalresults": 1, "domains": {"domain": {"id": 1}}},
     "malformed list"),
    ("GetEmails", {"totalresults": 1, "emails": ["a message"]}, "malformed list"),
    ("GetTickets", {"totalresults": "many", "tickets": {"ticket": [{"id": 1}]}},
     "malformed total"),
    ("GetPayMethods", {"paymethods": {"id": 1}}, "malformed list"),
])
def test_a_malformed_listing_is_reported_as_such(whmcs_server, company_copy, action, reply,
                                                 complaint) -> None:
    _, people = company_copy
    me = people[WITH_BANK_ACCOUNT - 1]
    whmcs_server.app.config["REPLIES"] = {action: {"result": "success", **reply}}
    with pytest.raises(SourceReplyInvalid, match=f"{action} answered a {complaint}") as failure:
        adapter(whmcs_server).lookup(identity(me))
    assert me.email not in str(failure.value)


def test_only_client_and_contact_fields_are_writable(whmcs_server, company_copy) -> None:
    _, people = company_copy
    me = people[WITH_BANK_ACCOUNT - 1]
    whmcs = adapter(whmcs_server)
    findings = whmcs.lookup(identity(me))
    iban = next(f for f in findings if f.record.field == "account_number")
    with pytest.raises(SourceNotWritable, match="no single writable field"):
        whmcs.correct(iban.record, {Category.BANK_DETAILS: "DE89 3704 0044 0532 0130 00"})
    invoice = of(findings, Category.INVOICE)[0]
    with pytest.raises(SourceNotWritable, match="no single writable field"):
        whmcs.correct(invoice.record, {Category.INVOICE: "paid"})
    assert whmcs_server.app.config["CALLS"]["UpdateClient"] == 0


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


def test_an_invoice_of_another_client_is_refused(whmcs_server, company_copy) -> None:
    _, people = company_copy
    me, other = people[WITH_BANK_ACCOUNT - 1], people[WITH_BANK_ACCOUNT + 2]
    whmcs_server.app.config["REPLIES"] = {"GetInvoice": {
        "result": "success", "invoiceid": 1, "userid": other.id, "items": ""}}
    with pytest.raises(SourceReplyInvalid, match="GetInvoice answered another client's"):
        adapter(whmcs_server).lookup(identity(me))
