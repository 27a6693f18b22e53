"""The matomo adapter against the Matomo stand-in: failures, the 401-visit cap, shared IPs."""

import sqlite3

import pytest

from dsr.adapters import SourceAuthFailed, SourceReplyInvalid, SourceUnavailable
from dsr.adapters.matomo import CAP, MatomoAdapter
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
