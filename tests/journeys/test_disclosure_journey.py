"""A court order end to end against the demo company's systems: approved narrowed, collected
(only what was approved), sealed with its hash, delivered, deferred under a gag order while the
same customer's access request is restricted, and told when the order lapses."""

import hashlib
import json
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select, update

from dsr import audit
from dsr.demo import company
from dsr.disclosures import notice_addresses
from dsr.extensions import db
from dsr.models import Disclosure, FoundItem, Request
from tests.fixtures.legal import act, approve, latest, legal, open_record, state
from tests.fixtures.people import (
    confirmed_request,
    csrf_token,
    mails,
    make_user,
    sign_in,
    staff_acts,
)

AUTHORITY = "Landeskriminalamt Berlin"
GAG = "§ 95a StPO: the court ordered the notice deferred while the investigation runs."


def answer_of(app: Flask, customer: company.Customer) -> tuple[Request, dict]:
    """An access request by the customer, collected and released; its answer."""
    case = confirmed_request(app.test_client(), customer)
    staff_acts(app, case.reference, "start_collection", "approve", "release")
    db.session.expire_all()
    released = db.session.get(Request, case.id)
    return released, released.answer


def test_a_court_order_is_disclosed_narrowed_gagged_and_told_when_the_gag_lapses(
    company_app: Flask, company_copy
) -> None:
    _, people = company_copy
    me = people[company.MENTIONING - 1]
    make_user("staff@example.org", "staff")
    opener = legal(company_app, "first@example.org")
    assert open_record(opener, authority=AUTHORITY, targets=me.email, range_from="",
                       range_to="").status_code == 302
    case = latest()
    second = legal(company_app, "second@example.org")
    act(second, case, "start_review")
    assert approve(second, case, targets=[f"email:{me.email}"], data_types=["subscriber"],
                   narrowing_reason="The order names subscriber data only.").status_code == 302

    assert act(second, case, "start_collection").status_code == 302
    kept = set(db.session.execute(select(FoundItem.category).where(
        FoundItem.request_id == case.id)).scalars())
    assert "email" in kept and "name" in kept
    assert not kept & {"ip", "visit", "ticket", "chat"}, "only the approved kinds of data"

    assert act(second, case, "review_package").status_code == 302
    record = db.session.get(Disclosure, case.id)
    package = second.get(f"/legal/{case.reference}/package.json")
    assert hashlib.sha256(package.data).hexdigest() == record.package_sha256
    sealed = json.loads(package.data)
    assert {r["category"] for r in sealed["records"]} == kept
    assert record.manifest["records"] == len(sealed["records"]) and record.accounts == 1
    assert notice_addresses(record) == [me.email], "the approved target, its account's address"

    assert act(second, case, "disclose", delivery="").status_code == 422
    assert act(second, case, "disclose", delivery="secure_portal").status_code == 302
    until = date.today() + timedelta(days=30)
    assert act(second, case, "defer_notification", reason=GAG,
               until=until.isoformat()).status_code == 302
    assert state(case) == "notification_deferred"

    access, answer = answer_of(company_app, me)
    assert answer["disclosures"] == [] and AUTHORITY not in json.dumps(answer)
    assert "request.restricted" in [e.action for e in audit.events_for(access.id)]
    staff = company_app.test_client()
    sign_in(staff, "staff@example.org")
    page = staff.get(f"/console/requests/{access.reference}").get_data(as_text=True)
    assert "restricted</strong>" in page and AUTHORITY not in page and GAG not in page

    runner = company_app.test_cli_runner()
    assert "0 subject notice(s) sent." in runner.invoke(args=["disclosures", "notify-due"]).output
    assert mails("disclosure-notice") == []
    db.session.execute(update(Disclosure).where(Disclosure.request_id == case.id)
                       .values(gag_until=date.today()))
    db.session.commit()
    told = runner.invoke(args=["disclosures", "notify-due"]).output
    assert f"Told the subject of {case.reference}" in told
    [notice] = mails("disclosure-notice")
    assert notice.to_address == me.email and AUTHORITY in notice.body
    assert "Subscriber data" in notice.body and me.phone not in notice.body
    assert state(case) == "subject_notified"

    _, later = answer_of(company_app, me)
    [listed] = later["disclosures"]
    assert (listed["authority"], listed["kinds_of_data"]) == (AUTHORITY, ["Subscriber data"])
    assert "not recipients" in later["disclosed_note"]
    assert audit.verify().intact


def test_a_source_that_failed_is_asked_again_before_the_package_is_sealed(
    company_app: Flask, company_copy, matomo_server
) -> None:
    _, people = company_copy
    me = people[company.MENTIONING - 1]
    open_record(legal(company_app, "first@example.org"), targets=me.email, range_from="",
                range_to="")
    case = latest()
    second = legal(company_app, "second@example.org")
    act(second, case, "start_review")
    approve(second, case, targets=[f"email:{me.email}"], data_types=["subscriber", "traffic"])
    matomo_server.app.config["MALFORMED"] = True
    act(second, case, "start_collection")
    refused = act(second, case, "review_package")
    assert refused.status_code == 422 and "Every source must have answered" in refused.get_data(
        as_text=True)

    matomo_server.app.config["MALFORMED"] = False
    page = f"/legal/{case.reference}"
    second.post(f"{page}/sources/analytics/retry", data={"csrf_token": csrf_token(second, page)})
    assert act(second, case, "review_package").status_code == 302
    assert "visit" in db.session.get(Disclosure, case.id).manifest["categories"]


def approved_and_collected(app: Flask, asked: str, **approval: object) -> Request:
    open_record(legal(app, "first@example.org"), targets=asked, range_from="", range_to="",
                data_types=["subscriber", "traffic", "content"])
    case = latest()
    second = legal(app, "second@example.org")
    act(second, case, "start_review")
    assert approve(second, case, **approval).status_code == 302
    act(second, case, "start_collection")
    return case


def kept(case: Request) -> set[str]:
    return set(db.session.execute(select(FoundItem.category).where(
        FoundItem.request_id == case.id)).scalars())


def test_only_the_approved_range_targets_and_kinds_of_data_are_collected(
    company_app: Flask, company_copy
) -> None:
    _, people = company_copy
    me, other = people[company.MENTIONING - 1], people[1]
    traffic = approved_and_collected(company_app, me.email, targets=[f"email:{me.email}"],
                                     data_types=["traffic"], narrowing_reason="Traffic only.")
    assert "visit" in kept(traffic), "the account's visits, found through its customer number"
    assert not kept(traffic) & {"name", "email", "ticket"}

    ranged = approved_and_collected(
        company_app, f"{me.email}\n{other.email}", targets=[f"email:{me.email}"],
        data_types=["subscriber", "traffic", "content"], range_from="2026-01-01",
        range_to="2026-01-02", narrowing_reason="One customer, two days.")
    assert kept(ranged) <= {"name", "address", "email", "phone", "company", "id_details",
                            "bank_details"}, "no activity outside the two days, none undated"
    values = set(db.session.execute(select(FoundItem.value).where(
        FoundItem.request_id == ranged.id)).scalars())
    assert other.email not in values, "a target not approved is not looked up"
    keys = db.session.get(Disclosure, ranged.id).subject_keys
    assert f"email:{other.email}" not in keys, "nor counted among the subjects"
