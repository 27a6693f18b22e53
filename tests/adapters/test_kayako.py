"""The kayako adapter against the Kayako Classic stand-in: signatures, failures, and other
people's words and addresses kept out of a subject's answer."""

import sqlite3

import pytest

from dsr.adapters import SourceAuthFailed, SourceReplyInvalid, SourceUnavailable, SubjectIdentity
from dsr.adapters.kayako import KayakoAdapter
from dsr.categories import Category
from dsr.demo import company
from tests.fixtures.company import identity, kayako_settings


def adapter(server, **overrides) -> KayakoAdapter:
    return KayakoAdapter("helpdesk", kayako_settings(server.url, **overrides))


def test_a_wrong_secret_key_fails_the_signature_check(kayako_server, company_copy) -> None:
    _, people = company_copy
    wrong = adapter(kayako_server, secret_key="not-the-secret")
    with pytest.raises(SourceAuthFailed, match=r"refused dsr's credentials \(HTTP 401\)"):
        wrong.lookup(identity(people[0]))
    assert not wrong.check().ok


def test_a_slow_server_times_out_clearly(kayako_server, company_copy) -> None:
    _, people = company_copy
    kayako_server.app.config["DELAY"] = 1.0
    with pytest.raises(SourceUnavailable, match=r"no answer within 0\.3 seconds"):
        adapter(kayako_server, timeout=0.3, retries=0).lookup(identity(people[0]))


def test_a_malformed_reply_is_reported_as_such(kayako_server, company_copy) -> None:
    _, people = company_copy
    kayako_server.app.config["MALFORMED"] = True
    with pytest.raises(SourceReplyInvalid, match="was not valid XML"):
        adapter(kayako_server).lookup(identity(people[0]))


def test_a_ticket_comes_with_the_conversation_as_held_for_collection_to_redact(
    kayako_server, company_copy
) -> None:
    # One mechanism: collection takes other people out of every source's free text
    # (tests/test_redaction.py), so the adapter returns the conversation as the helpdesk has it.
    _, people = company_copy
    me, other = people[company.MENTIONING - 1], people[company.MENTIONED - 1]
    ticket = next(f for f in adapter(kayako_server).lookup(identity(me))
                  if f.value == "Transfer domain to a colleague")
    assert other.email in ticket.context["conversation"]
    assert "Support Team: Hi" in ticket.context["conversation"]


def test_messages_by_third_parties_in_a_ticket_are_left_out(kayako_server, company_copy) -> None:
    folder, people = company_copy
    me = people[company.MENTIONING - 1]
    connection = sqlite3.connect(folder / "helpdesk.sqlite")
    with connection:
        ticket = connection.execute("SELECT ticketid FROM swtickets WHERE userid = ?",
                                    (me.id,)).fetchone()[0]
        connection.execute("INSERT INTO swticketposts (ticketid, userid, fullname, email, "
                           "ipaddress, contents, dateline, creator) VALUES (?, 0, 'Cc Person', "
                           "'cc.person@example.org', '192.0.2.99', 'My own private reply', "
                           "1780000000, 1)", (ticket,))
    connection.close()
    found = adapter(kayako_server).lookup(identity(me))
    conversation = " ".join(f.context.get("conversation", "") for f in found)
    assert "My own private reply" not in conversation
    assert any(f.context.get("left_out") == "1 message(s) by other people" for f in found)
    assert "192.0.2.99" not in {f.value for f in found}


def test_either_address_finds_the_user_with_both(kayako_server, company_copy) -> None:
    _, people = company_copy
    me = people[company.SEVERAL_EMAILS - 1]
    home = f"{me.first.lower()}@home.example"
    found = adapter(kayako_server).lookup(SubjectIdentity.of(home))
    emails = {f.value for f in found if f.category == Category.EMAIL}
    assert emails == {me.email, home}


def test_a_fuzzy_search_hit_on_someone_else_is_not_theirs(kayako_server, company_copy) -> None:
    _, people = company_copy
    me = people[0]
    # Kayako's search matches names and organisations too: searching a bare domain finds
    # every customer, and none of them owns that address.
    found = adapter(kayako_server).lookup(SubjectIdentity.of("example.com"))
    assert found == []
    assert adapter(kayako_server).lookup(identity(me)) != []


def test_retried_requests_never_log_the_signed_query(kayako_server,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    kayako_server.app.config["FAIL_NEXT"] = 1
    with caplog.at_level("DEBUG", logger="urllib3"):
        adapter(kayako_server, retries=2).check()
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("urllib3"))
    assert "503" in logged and "/api/index.php?…" in logged, "the retry was logged, cut"
    assert "apikey" not in logged and "signature" not in logged and "salt=" not in logged


def test_posts_from_the_subjects_second_address_are_theirs(kayako_server, company_copy) -> None:
    folder, people = company_copy
    me = people[company.SEVERAL_EMAILS - 1]
    home = f"{me.first.lower()}@home.example"
    connection = sqlite3.connect(folder / "helpdesk.sqlite")
    with connection:
        ticket = connection.execute(
            "INSERT INTO swtickets (ticketmaskid, userid, fullname, email, subject, ipaddress, "
            "dateline, lastactivity) VALUES ('TKT-1-2', ?, 'Me', ?, 'Second address', "
            "'192.0.2.7', 1780000000, 1780000000)", (me.id, me.email)).lastrowid
        connection.execute(
            "INSERT INTO swticketposts (ticketid, userid, fullname, email, ipaddress, contents, "
            "dateline, creator) VALUES (?, ?, 'Me', ?, '192.0.2.7', ?, 1780000000, 1)",
            (ticket, me.id, home, f"Please write to {home} instead."))
    connection.close()
    found = adapter(kayako_server).lookup(identity(me))
    ticket_finding = next(f for f in found if f.value == "Second address")
    assert f"Please write to {home} instead." in ticket_finding.context["conversation"]
    assert "left_out" not in ticket_finding.context
