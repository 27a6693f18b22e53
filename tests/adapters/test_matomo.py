"""The matomo adapter against the Matomo stand-in: failures, the 401-visit cap, shared IPs,
every column of a visit, and whose visits a visitor ID or an IP address a requester gives
releases."""

import re
import sqlite3
from datetime import date

import pytest

from dsr.adapters import (
    ClaimedIp,
    SourceAuthFailed,
    SourceReplyInvalid,
    SourceUnavailable,
    SubjectIdentity,
    identification_notes,
)
from dsr.adapters.matomo import CAP, SHARED_CLAIM, MatomoAdapter
from dsr.categories import Category
from dsr.demo import company
from tests.fixtures.company import identity, matomo_settings, visits_of


def adapter(server, **overrides) -> MatomoAdapter:
    return MatomoAdapter("analytics", matomo_settings(server.url, **overrides))


def customer_identity(customer: company.Customer, *ips: str):
    return identity(customer, customer_ids=[str(customer.id)], ips=list(ips))


def test_a_wrong_token_fails_as_an_authentication_error(matomo_server, company_copy) -> None:
    _, people = company_copy
    wrong = adapter(matomo_server, token="not-the-token")
    with pytest.raises(SourceAuthFailed, match="Matomo refused the token"):
        wrong.lookup(customer_identity(people[0]))
    assert not wrong.check().ok


def test_a_slow_server_times_out_clearly(matomo_server, company_copy) -> None:
    _, people = company_copy
    matomo_server.app.config["DELAY"] = 1.0
    with pytest.raises(SourceUnavailable, match=r"no answer within 0\.3 seconds"):
        adapter(matomo_server, timeout=0.3, retries=0).lookup(customer_identity(people[0]))


def test_a_malformed_reply_is_reported_as_such(matomo_server, company_copy) -> None:
    _, people = company_copy
    matomo_server.app.config["MALFORMED"] = True
    with pytest.raises(SourceReplyInvalid, match="not valid JSON"):
        adapter(matomo_server).lookup(customer_identity(people[0]))


def test_every_visit_comes_with_its_pages_duration_and_time(matomo_server, company_copy) -> None:
    folder, people = company_copy
    me = people[0]
    visits = [f for f in adapter(matomo_server, batch=2).lookup(customer_identity(me))
              if f.category == Category.VISIT]
    assert len(visits) == len(visits_of(folder, me))
    for visit in visits:
        assert visit.context["pages"].startswith("www.cloudtoko.eu/")
        assert visit.context["duration"].endswith(" s")
        assert visit.context["time"].endswith("UTC")


def test_hitting_matomos_cap_warns_that_visits_may_be_missing(matomo_server, company_copy) -> None:
    folder, people = company_copy
    me = people[0]
    connection = sqlite3.connect(folder / "analytics.sqlite")
    with connection:
        connection.executemany(
            "INSERT INTO log_visit (idsite, idvisitor, user_id, location_ip, "
            "visit_first_action_time, visit_last_action_time, visit_total_time, "
            "visit_total_actions) VALUES (1, 'ab', ?, ?, ?, ?, 30, 1)",
            [(str(me.id), me.ip, f"2026-07-01 10:{n % 60:02d}:00", f"2026-07-01 10:{n % 60:02d}:30")
             for n in range(CAP + 20)],
        )
    connection.close()
    result = adapter(matomo_server).lookup(customer_identity(me))
    assert result.warnings == [
        f"analytics: Matomo returned its maximum of {CAP} visits for one search; older visits "
        "of this subject may be missing."
    ]
    assert len([f for f in result if f.category == Category.VISIT]) >= CAP


def test_visits_another_account_made_from_a_shared_ip_are_left_out(
    matomo_server, company_copy
) -> None:
    folder, people = company_copy
    me, colleague = people[company.SHARED_IP_A - 1], people[company.SHARED_IP_B - 1]
    found = adapter(matomo_server).lookup(customer_identity(me, company.OFFICE_IP))
    mine = {f.record.key.split(":")[1] for f in found if f.category == Category.VISIT}
    theirs = {str(v) for v, _ in visits_of(folder, colleague)}
    assert mine == {str(v) for v, _ in visits_of(folder, me)}
    assert theirs and not mine & theirs
    assert found.warnings == ["analytics: an IP address of this subject was also used by other "
                              "accounts; anonymous visits from it were left out."]


def test_anonymous_visits_from_an_address_only_the_subject_used_are_theirs(
    matomo_server, company_copy
) -> None:
    folder, people = company_copy
    me = people[0]
    connection = sqlite3.connect(folder / "analytics.sqlite")
    with connection:
        connection.execute(
            "INSERT INTO log_visit (idsite, idvisitor, user_id, location_ip, "
            "visit_first_action_time, visit_last_action_time, visit_total_time, "
            "visit_total_actions) VALUES (1, 'cd', NULL, ?, '2026-08-01 09:00:00', "
            "'2026-08-01 09:01:00', 60, 1)", (me.ip,))
        anonymous = str(connection.execute("SELECT max(idvisit) FROM log_visit").fetchone()[0])
    connection.close()
    found = adapter(matomo_server).lookup(customer_identity(me, me.ip))
    assert anonymous in {f.record.key.split(":")[1] for f in found
                         if f.category == Category.VISIT}
    assert found.warnings == []


def test_no_customer_number_and_no_ip_means_no_search(matomo_server, company_copy) -> None:
    _, people = company_copy
    assert list(adapter(matomo_server).lookup(identity(people[0]))) == []


def visitor_visits(folder, **where: str) -> dict[str, str]:
    """The demo visitor's visits in the analytics database: idvisit -> first action time."""
    connection = sqlite3.connect(folder / "analytics.sqlite")
    clause = " AND ".join(f"{column} = ?" for column in where)
    try:
        return {str(v): t for v, t in connection.execute(
            f"SELECT idvisit, visit_first_action_time FROM log_visit WHERE {clause}",
            tuple(where.values()))}
    finally:
        connection.close()


def released(found) -> set[str]:
    return {f.record.key.split(":")[1] for f in found if f.category == Category.VISIT}


def claim(ip: str, first: str, last: str) -> ClaimedIp:
    return ClaimedIp(ip, date.fromisoformat(first), date.fromisoformat(last))


def test_a_visit_holds_every_column_of_the_export_under_a_plain_label(
    matomo_server, company_copy
) -> None:
    visitor = SubjectIdentity.of(company.VISITOR_EMAIL, visitor_ids=[company.VISITOR_ID])
    visit = next(f for f in adapter(matomo_server).lookup(visitor)
                 if f.category == Category.VISIT)
    details = visit.context
    assert details["visitor ID"] == company.VISITOR_ID
    assert details["browser"] == "Firefox 132.0"
    assert details["operating system"] == "Windows 11"
    assert details["device type"] == "desktop"
    assert details["city"] == "Lyon" and details["country"] == "FR"
    assert details["region"] == "ARA"
    assert details["location (latitude, longitude)"] == "45.76, 4.84"
    assert details["language"].startswith("fr-fr")
    assert details["screen resolution"] in {"1920x1080", "1366x768", "1920x1200"}
    assert details["referrer type"] in {"direct entry", "search engine", "website", "campaign"}
    assert details["visit count"] == "1" and details["returning visitor"] == "no, a first visit"
    assert details["entry page"].startswith("www.cloudtoko.eu/")
    assert re.fullmatch(r"(www\.cloudtoko\.eu/\S* at \d\d:\d\d:\d\d UTC for [\d a-z]+ s; )*"
                        r"www\.cloudtoko\.eu/\S* at \d\d:\d\d:\d\d UTC for [\d a-z]+ s",
                        details["pages"]), details["pages"]
    assert not [key for key in details if "_" in key], "Matomo's column names are not labels"


def test_a_search_engine_visit_names_the_engine_and_a_phone_its_make(
    matomo_server, company_copy
) -> None:
    _, people = company_copy
    found = adapter(matomo_server).lookup(customer_identity(people[0]))
    contexts = [f.context for f in found if f.category == Category.VISIT]
    referred = [c for c in contexts if c.get("referrer type") == "search engine"]
    assert referred and all(c["referrer name"] in {"Google", "DuckDuckGo", "Bing"}
                            for c in referred)
    assert all(c["user ID"] == str(people[0].id) for c in contexts)
    phones = [c for c in contexts if c["device type"] in {"smartphone", "tablet"}]
    assert all(c["device brand"] in {"Samsung", "Google"} and c["device model"]
               for c in phones)
    assert any(c["returning visitor"].startswith("yes") for c in contexts)


def test_the_visitor_id_the_browser_presented_finds_that_browsers_visits(
    matomo_server, company_copy
) -> None:
    folder, _ = company_copy
    visitor = SubjectIdentity.of(company.VISITOR_EMAIL, visitor_ids=[company.VISITOR_ID])
    found = adapter(matomo_server).lookup(visitor)
    assert released(found) == set(visitor_visits(folder, idvisitor=company.VISITOR_ID))
    assert len(released(found)) == company.VISITOR_HOME_VISITS + company.VISITOR_CAFE_VISITS
    assert {f.value for f in found if f.category == Category.IP} == {
        company.VISITOR_IP, company.CAFE_IP}
    assert found.warnings == []


def test_the_stand_in_searches_by_visitor_id_as_matomo_does(matomo_server) -> None:
    found = adapter(matomo_server).call("PrivacyManager.findDataSubjects", {
        "idSite": "all", "segment": f"visitorId=={company.VISITOR_ID}"})
    assert {v["visitorId"] for v in found} == {company.VISITOR_ID}
    assert {v["userId"] for v in found} == {None}


def test_an_address_only_the_visitor_used_releases_their_visits_in_the_days_given(
    matomo_server, company_copy
) -> None:
    folder, _ = company_copy
    home = visitor_visits(folder, location_ip=company.VISITOR_IP)
    inside = {v for v, t in home.items() if "2026-04-01" <= t[:10] <= "2026-06-30"}
    assert inside and len(inside) < len(home)
    visitor = SubjectIdentity.of(company.VISITOR_EMAIL, claimed_ips=[
        claim(company.VISITOR_IP, "2026-04-01", "2026-06-30")])
    found = adapter(matomo_server).lookup(visitor)
    assert released(found) == inside, "only the visits inside the days given"
    assert found.warnings == []
    visits = [f for f in found if f.category == Category.VISIT]
    assert not [f for f in visits if company.VISITOR_ID in str(dict(f.context))], \
        "knowing an address never hands over the browser's ID, which would open the rest"
    assert not [f for f in visits if "device fingerprint (a hash)" in f.context]
    browser = SubjectIdentity.of(company.VISITOR_EMAIL, visitor_ids=[company.VISITOR_ID])
    assert any(f.context.get("visitor ID") == company.VISITOR_ID
               for f in adapter(matomo_server).lookup(browser)), "the browser's own ID shows"


@pytest.mark.parametrize("who", ["anonymous browsers", "a customer account"])
def test_an_address_others_used_in_those_days_releases_nothing_and_says_why(
    matomo_server, company_copy, who: str
) -> None:
    _, people = company_copy
    if who == "anonymous browsers":
        address, days = company.CAFE_IP, ("2026-02-01", "2026-07-31")
    else:
        address, days = people[0].ip, ("2026-01-01", "2026-12-31")
    impostor = SubjectIdentity.of("impostor@example.net", claimed_ips=[claim(address, *days)])
    found = adapter(matomo_server).lookup(impostor)
    assert released(found) == set()
    assert list(found) == []
    [warning] = found.warnings
    assert warning.startswith("analytics: Art. 11(2): Other people's visits were recorded")
    assert identification_notes(found.warnings) == [SHARED_CLAIM]
    assert address not in warning


def test_a_customers_address_is_not_released_to_the_customer_who_claims_it_either_way(
    matomo_server, company_copy
) -> None:
    folder, people = company_copy
    me, colleague = people[company.SHARED_IP_A - 1], people[company.SHARED_IP_B - 1]
    found = adapter(matomo_server).lookup(SubjectIdentity.of(
        me.email, customer_ids=[str(me.id)],
        claimed_ips=[claim(company.OFFICE_IP, "2026-01-01", "2026-12-31")]))
    assert not released(found) & {str(v) for v, _ in visits_of(folder, colleague)}
    assert identification_notes(found.warnings) == [SHARED_CLAIM]


def test_a_browser_that_was_signed_in_to_another_account_releases_only_its_anonymous_visits(
    matomo_server, company_copy
) -> None:
    folder, people = company_copy
    connection = sqlite3.connect(folder / "analytics.sqlite")
    with connection:
        connection.execute(
            "INSERT INTO log_visit (idsite, idvisitor, user_id, location_ip, "
            "visit_first_action_time, visit_last_action_time, visit_total_time, "
            "visit_total_actions) VALUES (1, ?, ?, ?, '2026-08-01 09:00:00', "
            "'2026-08-01 09:01:00', 60, 1)", (company.VISITOR_ID, str(people[0].id),
                                              company.VISITOR_IP))
        theirs = str(connection.execute("SELECT max(idvisit) FROM log_visit").fetchone()[0])
    connection.close()
    found = adapter(matomo_server).lookup(SubjectIdentity.of(
        company.VISITOR_EMAIL, visitor_ids=[company.VISITOR_ID]))
    assert theirs not in released(found)
    assert len(released(found)) == company.VISITOR_HOME_VISITS + company.VISITOR_CAFE_VISITS
    assert found.warnings == ["analytics: visits signed in to another account from the "
                              "subject's browser were left out."]
