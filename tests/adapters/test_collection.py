"""Collection over the demo company's real adapters and stand-ins: every source asked at once,
each failure recorded on the request with a clear message, and a failed source retried alone."""


import pytest
from flask import Flask
from sqlalchemy import select

from dsr import audit, collection
from dsr.actors import Actor
from dsr.categories import Category
from dsr.demo import company
from dsr.extensions import db
from dsr.models import FoundItem, SourceRun
from tests.factories import make_request
from tests.fixtures.company import visits_of

STAFF = Actor("user:1", frozenset({"staff"}))


def states(runs: dict[str, SourceRun]) -> dict[str, str]:
    return {name: run.state for name, run in runs.items()}


def test_every_source_is_asked_and_what_they_found_is_stored(company_app, company_copy) -> None:
    _, people = company_copy
    me = people[company.MENTIONING - 1]
    case = make_request("access", "collecting", email=me.email)
    runs = collection.collect(case, actor=STAFF)
    assert states(runs) == {"analytics": "done", "billing": "done", "chats": "done",
                            "dsr": "done", "helpdesk": "done"}
    stored = db.session.execute(select(FoundItem).where(FoundItem.request_id == case.id)
                                ).scalars().all()
    assert {(i.source, i.category) for i in stored} >= {
        ("billing", Category.EMAIL.value), ("analytics", Category.VISIT.value),
        ("helpdesk", Category.TICKET.value)}
    assert all(runs[s].findings == sum(1 for i in stored if i.source == s) for s in runs)
    actions = [e.action for e in audit.events_for(case.id)]
    assert actions.count("collection.source_done") == 5
    assert audit.verify().intact


# Where each HTTP source keeps the secret it signs in with, and its stand-in server.
CREDENTIALS = {"billing": ("whmcs_server", "_credentials", "secret"),
               "analytics": ("matomo_server", "_token", None),
               "helpdesk": ("kayako_server", "_secret", None)}
FAILURES = {
    ("billing", "auth"): "billing: the server refused dsr's credentials (HTTP 403).",
    ("billing", "timeout"): "billing: no answer within 2 seconds.",
    ("billing", "malformed"): "billing: the reply was not valid JSON.",
    ("billing", "outage"): "billing: the server answered HTTP 503.",
    ("analytics", "auth"): "analytics: Matomo refused the token (You can't access this "
                           "resource as it requires 'admin' access.)",
    ("analytics", "timeout"): "analytics: no answer within 2 seconds.",
    ("analytics", "malformed"): "analytics: the reply was not valid JSON.",
    ("helpdesk", "auth"): "helpdesk: the server refused dsr's credentials (HTTP 401).",
    ("helpdesk", "timeout"): "helpdesk: no answer within 2 seconds.",
    ("helpdesk", "malformed"): "helpdesk: the reply to /Base/UserSearch was not valid XML.",
}


def break_source(app: Flask, request: pytest.FixtureRequest, source: str, kind: str):
    """Make one source fail the given way; return how to mend it."""
    server_name, attribute, key = CREDENTIALS[source]
    server = request.getfixturevalue(server_name)
    adapter = app.extensions["dsr.sources"][source].adapter
    if kind == "auth":
        good = getattr(adapter, attribute)
        if key:
            setattr(adapter, attribute, {**good, key: "rotated-elsewhere"})
        else:
            setattr(adapter, attribute, b"wrong" if isinstance(good, bytes) else "wrong")
        return lambda: setattr(adapter, attribute, good)
    switch = {"timeout": {"DELAY": 2.5}, "malformed": {"MALFORMED": True},
              "outage": {"FAIL_NEXT": 99}}[kind]
    server.app.config.update(switch)
    return lambda: server.app.config.update({k: 0 for k in switch})


@pytest.mark.parametrize(("source", "kind"), sorted(FAILURES))
def test_a_failing_source_is_recorded_and_retried_alone(
    company_app, company_copy, request: pytest.FixtureRequest, source: str, kind: str
) -> None:
    _, people = company_copy
    me = people[0]
    case = make_request("access", "collecting", email=me.email)
    mend = break_source(company_app, request, source, kind)

    runs = collection.collect(case, actor=STAFF)

    failed = {name: run.error for name, run in runs.items() if run.state == "failed"}
    assert failed == {source: FAILURES[(source, kind)]}
    others = {name: run.attempts for name, run in runs.items() if name != source}

    mend()
    again = collection.collect(case, actor=STAFF, sources=[source])
    assert again[source].state == "done" and again[source].error is None
    assert again[source].attempts == 2
    after = {n: r.attempts for n, r in collection.runs_of(case).items() if n != source}
    if source == "billing":  # what billing knows widens the others' search: all asked again
        assert after == {n: 2 for n in others}
    else:
        assert after == others


def test_after_billing_is_retried_the_others_search_with_what_it_knows(
    company_app, company_copy, whmcs_server
) -> None:
    folder, people = company_copy
    me = people[0]
    case = make_request("access", "collecting", email=me.email)
    whmcs_server.app.config["FAIL_NEXT"] = 99
    collection.collect(case, actor=STAFF)
    assert collection.runs_of(case)["analytics"].findings == 0, "no customer number yet"
    whmcs_server.app.config["FAIL_NEXT"] = 0
    runs = collection.collect(case, actor=STAFF, sources=["billing"])
    visits = {i.record_key.split(":")[1] for i in db.session.execute(select(FoundItem).where(
        FoundItem.request_id == case.id, FoundItem.category == "visit")).scalars()}
    assert visits == {str(v) for v, _ in visits_of(folder, me)}
    assert all(run.state == "done" for run in runs.values())


def test_staff_cannot_finish_a_collection_with_a_failed_source(company_app, company_copy,
                                                                kayako_server) -> None:
    from dsr import engine

    _, people = company_copy
    case = make_request("access", "collecting", email=people[0].email)
    kayako_server.app.config["MALFORMED"] = True
    collection.collect(case, actor=STAFF)
    with pytest.raises(engine.GuardRefused, match="Every source must have answered first"):
        engine.fire(case, "finish_collection", actor=STAFF)


def test_a_source_slower_than_the_collection_limit_is_failed_not_awaited(
    company_app, company_copy, whmcs_server
) -> None:
    _, people = company_copy
    me = people[0]
    case = make_request("access", "collecting", email=me.email)
    company_app.config["SOURCE_TIMEOUT"] = 0.5
    whmcs_server.app.config["DELAY"] = 1.5
    runs = collection.collect(case, actor=STAFF, sources=["billing", "chats"])
    assert runs["billing"].error == "billing: no answer within 0.5 seconds."
    assert runs["chats"].state == "done"
    whmcs_server.app.config["DELAY"] = 0


def test_the_billing_account_widens_who_else_is_asked(company_app, company_copy) -> None:
    folder, people = company_copy
    me = people[company.SHARED_IP_A - 1]
    case = make_request("access", "collecting", email=me.email)
    collection.collect(case, actor=STAFF)
    items = db.session.execute(select(FoundItem).where(FoundItem.request_id == case.id)
                               ).scalars().all()
    visits = {i.record_key.split(":")[1] for i in items if i.category == "visit"}
    assert visits == {str(v) for v, _ in visits_of(folder, me)}, \
        "found by the customer number billing knows, not by the e-mail address"
    runs = collection.runs_of(case)
    assert runs["analytics"].warnings == [
        "analytics: an IP address of this subject was also used by other accounts; anonymous "
        "visits from it were left out."]


def test_on_the_queue_a_request_that_ended_is_collected_for_no_further(
    company_app, company_copy
) -> None:
    _, people = company_copy
    case = make_request("access", "collecting", email=people[2].email)
    collection.start(case, STAFF, then="finish_collection")
    case.state = "withdrawn"  # withdrawn before any source was asked
    db.session.commit()
    db.session.expire_all()
    runs = collection.runs_of(case)
    assert {run.state for run in runs.values()} == {"failed"}
    assert {run.error for run in runs.values()} == {
        "The request ended before this source was asked."}
    assert db.session.execute(select(FoundItem).where(FoundItem.request_id == case.id)
                              ).first() is None, "nothing collected"


def test_on_the_queue_every_source_is_asked_once_and_the_request_moves_on(
    company_app, company_copy
) -> None:
    _, people = company_copy
    case = make_request("access", "collecting", email=people[3].email)
    collection.start(case, STAFF, then="finish_collection")
    collection.start(case, STAFF, sources=["billing"])  # pressed twice: the jobs have them
    db.session.commit()
    db.session.expire_all()
    assert {name: (run.state, run.attempts) for name, run in collection.runs_of(case).items()
            } == {name: ("done", 1)
                  for name in ("analytics", "billing", "chats", "dsr", "helpdesk")}
    assert case.state == "in_review"
    assert [e.action for e in audit.events_for(case.id)].count("collection.source_done") == 5


def test_rows_go_in_as_they_come_over_several_batches_on_each_backend(app: Flask) -> None:
    from dsr.database import ROW_BATCH, insert_rows

    case = make_request("access", "collecting")
    count = ROW_BATCH * 2 + 5

    def rows():  # a generator: insert_rows takes what it is given one row at a time
        for n in range(count):
            yield {"request_id": case.id, "source": "shop", "category": Category.ORDER.value,
                   "label": "Order", "value": f"Order {n}", "record_kind": "orders",
                   "record_key": str(n), "record_field": "", "context": {"n": str(n)},
                   "dated": "", "redactions": [], "withheld_ground": None,
                   "withheld_note": None}

    insert_rows(db.session.connection(), FoundItem, rows())
    insert_rows(db.session.connection(), FoundItem, iter(()))
    db.session.commit()
    stored = db.session.execute(select(FoundItem.value, FoundItem.context).where(
        FoundItem.request_id == case.id).order_by(FoundItem.id)).all()
    assert [value for value, _ in stored] == [f"Order {n}" for n in range(count)]
    assert stored[-1].context == {"n": str(count - 1)}
