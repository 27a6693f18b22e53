"""The JSON API: bearer tokens, request details, transitions with 200, 403, 409 and 422."""

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import ApiToken, AuditEvent, FoundItem, OutboxMessage, Request, SourceRun
from tests.factories import make_request


def token_for(user) -> str:
    row, token = ApiToken.issue(user)
    db.session.add(row)
    db.session.commit()
    return token


@pytest.fixture
def staff_api(client: FlaskClient, users) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(users['staff'])}"}


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer dsr_not-a-real-token", "Basic c3RhZmY6cGFzcw=="]
)
def test_no_valid_token_gets_401(client: FlaskClient, users, header: str | None) -> None:
    case = make_request("access", "in_review")
    headers = {"Authorization": header} if header else {}
    response = client.get(f"/api/v1/requests/{case.reference}", headers=headers)
    assert response.status_code == 401
    assert response.json == {
        "error": {"status": 401, "message": "A valid bearer token is required."}
    }


def test_a_revoked_token_gets_401(client: FlaskClient, users, staff_api) -> None:
    db.session.execute(select(ApiToken)).scalar_one().revoked_at = utcnow()
    db.session.commit()
    assert client.get("/api/v1/requests", headers=staff_api).status_code == 401


def test_a_deactivated_accounts_token_gets_401(client: FlaskClient, users, staff_api) -> None:
    users["staff"].active = False
    db.session.commit()
    assert client.get("/api/v1/requests", headers=staff_api).status_code == 401


def test_a_session_cookie_is_not_enough_for_the_api(staff_client: FlaskClient) -> None:
    case = make_request("access", "in_review")
    response = staff_client.post(
        f"/api/v1/requests/{case.reference}/transitions", json={"trigger": "approve"}
    )
    assert response.status_code == 401


@pytest.mark.parametrize("role", ["legal", "admin"])
def test_other_roles_tokens_cannot_use_the_staff_api(client: FlaskClient, users, role: str) -> None:
    headers = {"Authorization": f"Bearer {token_for(users[role])}"}
    response = client.get("/api/v1/requests", headers=headers)
    assert response.status_code == 403
    assert response.json["error"]["message"] == "This needs the role staff."


def test_get_request_returns_state_due_date_and_allowed_triggers(
    client: FlaskClient, staff_api: dict[str, str]
) -> None:
    case = make_request("access", "in_review", email="ina@example.com")
    response = client.get(f"/api/v1/requests/{case.reference}", headers=staff_api)
    assert response.status_code == 200
    body = response.json
    assert body["id"] == case.reference
    assert body["state"] == "in_review"
    assert body["due_at"] == case.due_at.isoformat()
    assert body["requester"]["email"] == "ina@example.com"
    assert body["allowed_triggers"] == ["approve", "reject", "withdraw", "extend"]
    view = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "request.view")
    ).scalar_one()
    assert view.details == {"via": "api", "flag": False}


def test_list_filters_by_state(client: FlaskClient, staff_api: dict[str, str]) -> None:
    wanted = make_request("access", "verified")
    make_request("access", "in_review")
    response = client.get("/api/v1/requests?state=verified", headers=staff_api)
    assert [r["id"] for r in response.json["requests"]] == [wanted.reference]


def test_transition_returns_the_new_state(client: FlaskClient, staff_api: dict[str, str]) -> None:
    case = make_request("access", "in_review")
    response = client.post(
        f"/api/v1/requests/{case.reference}/transitions", headers=staff_api,
        json={"trigger": "approve"},
    )
    assert response.status_code == 200
    assert response.json["state"] == "approved"
    assert response.json["allowed_triggers"] == ["release", "reject", "withdraw", "extend"]
    db.session.expire_all()
    assert db.session.get(Request, case.id).state == "approved"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"trigger": "close"}, 409, "'close' is not possible while the request is 'in_review'."),
        ({"trigger": "teleport"}, 409, "access requests have no action 'teleport'."),
        ({"trigger": "reject"}, 422, "A reason is required."),
    ],
)
def test_refused_transitions_explain_and_list_the_allowed_triggers(
    client: FlaskClient, staff_api: dict[str, str], body: dict[str, str], status: int,
    message: str,
) -> None:
    case = make_request("access", "in_review")
    response = client.post(
        f"/api/v1/requests/{case.reference}/transitions", headers=staff_api, json=body
    )
    assert response.status_code == status
    assert response.json["error"]["message"] == message
    assert response.json["error"]["allowed_triggers"] == ["approve", "reject", "withdraw", "extend"]
    db.session.expire_all()
    assert db.session.get(Request, case.id).state == "in_review"


@pytest.mark.parametrize(
    "payload",
    [
        b"not json", b"[]", b'{"trigger": 3}', b'{"trigger": "reject", "reason": ["x"]}',
        b'{"trigger": "approve", "actor": "system"}', b'{"trigger": "approve", "request": 1}',
        b'{"trigger": "approve", "reason": "x"}', b'{"trigger": "approve", "version": "1"}',
    ],
)
def test_malformed_bodies_get_400(
    client: FlaskClient, staff_api: dict[str, str], payload: bytes
) -> None:
    case = make_request("access", "in_review")
    response = client.post(
        f"/api/v1/requests/{case.reference}/transitions", headers=staff_api, data=payload,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json["error"]["status"] == 400


def test_a_decision_on_a_stale_version_gets_409(
    client: FlaskClient, staff_api: dict[str, str]
) -> None:
    case = make_request("access", "in_review")
    seen = client.get(f"/api/v1/requests/{case.reference}", headers=staff_api).json["version"]
    client.post(f"/api/v1/requests/{case.reference}/transitions", headers=staff_api,
                json={"trigger": "approve", "version": seen})
    late = client.post(f"/api/v1/requests/{case.reference}/transitions", headers=staff_api,
                       json={"trigger": "reject", "reason": "Unfounded.", "version": seen})
    assert late.status_code == 409
    assert "changed this request since you opened it" in late.json["error"]["message"]


def test_audit_lists_the_requests_events_oldest_first(
    client: FlaskClient, staff_api: dict[str, str]
) -> None:
    case = make_request("access", "in_review")
    client.post(f"/api/v1/requests/{case.reference}/transitions", headers=staff_api,
                json={"trigger": "reject", "reason": "Manifestly unfounded: see note 4."})
    response = client.get(f"/api/v1/requests/{case.reference}/audit", headers=staff_api)
    events = response.json["events"]
    assert [e["action"] for e in events] == ["request.opened", "request.transition",
                                             "mail.queued"]
    assert events[1]["details"]["to_state"] == "rejected"
    assert "Manifestly" not in str(events)


def test_a_trigger_for_another_role_gets_403(
    client: FlaskClient, staff_api: dict[str, str]
) -> None:
    case = make_request("access", "submitted")
    response = client.post(
        f"/api/v1/requests/{case.reference}/transitions", headers=staff_api,
        json={"trigger": "verify"},
    )
    assert response.status_code == 403
    assert response.json["error"] == {
        "status": 403, "message": "'verify' needs the role subject.",
        "allowed_triggers": ["withdraw"],
    }


def test_unknown_request_gets_a_json_404(client: FlaskClient, staff_api: dict[str, str]) -> None:
    response = client.get("/api/v1/requests/0000-0000-0000-0000", headers=staff_api)
    assert response.status_code == 404
    assert response.json["error"]["message"] == "There is no request with that id."


def test_anyone_may_submit_and_gets_the_same_answer_for_any_address(client: FlaskClient) -> None:
    answers = [client.post("/api/v1/requests", json={"type": "access", "email": email,
                                                     "name": "Rosa Rivera"})
               for email in ("known@example.com", "unknown@example.net")]
    assert [a.status_code for a in answers] == [202, 202]
    assert [set(a.json) for a in answers] == [{"id", "state"}] * 2
    assert {a.json["state"] for a in answers} == {"submitted"}
    mails = db.session.execute(select(OutboxMessage.to_address)).scalars().all()
    assert sorted(mails) == ["known@example.com", "unknown@example.net"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"type": "erasure", "email": "a@example.com", "name": "A"}, "type: Input should be"),
        ({"type": "access", "email": "not an address", "name": "A"}, "email: value is not a valid"),
        ({"type": "access", "email": "a@example.com"}, "name: Field required."),
        ({"type": "access", "email": "a@example.com", "name": "A", "admin": True},
         "admin: Extra inputs are not permitted."),
    ],
)
def test_a_malformed_submission_gets_400_naming_the_field(
    client: FlaskClient, body: dict, message: str
) -> None:
    response = client.post("/api/v1/requests", json=body)
    assert response.status_code == 400
    assert response.json["error"]["message"].startswith(message)


def test_submissions_for_one_address_are_never_refused_only_its_mail_is_capped(
        client: FlaskClient) -> None:
    body = {"type": "access", "email": "rosa@example.com", "name": "Rosa"}
    answers = [client.post("/api/v1/requests", json=body) for _ in range(4)]
    assert [a.status_code for a in answers] == [202] * 4
    assert len({a.get_data(as_text=True).replace(str(a.json["id"]), "") for a in answers}) == 1
    kinds = [m.kind for m in db.session.execute(select(OutboxMessage)
                                                .order_by(OutboxMessage.id)).scalars()]
    assert kinds == ["verification"] * 3 + ["digest"]


def test_the_openapi_document_is_valid_and_documents_every_route(app, client: FlaskClient
                                                                 ) -> None:
    from openapi_spec_validator import validate

    spec = client.get("/api/v1/openapi.json").json
    validate(spec)
    documented = {(path, method.upper()) for path, item in spec["paths"].items()
                  for method in item}
    served = {(rule.rule.replace("<reference>", "{id}"), method)
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/requests")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented


def test_the_detail_shows_sources_and_findings_with_id_details_masked(
    client: FlaskClient, staff_api: dict[str, str]
) -> None:
    case = make_request("access", "in_review")
    db.session.add_all([
        SourceRun(request_id=case.id, source="billing", state="done", attempts=1,
                  started_at=utcnow(), findings=2, warnings=[]),
        SourceRun(request_id=case.id, source="analytics", state="failed", attempts=2,
                  started_at=utcnow(), error="analytics: no answer within 60 seconds.",
                  warnings=[]),
        FoundItem(request_id=case.id, source="billing", category="email", label="E-mail",
                  value="ina@example.com", record_kind="client", record_key="1", context={}),
        FoundItem(request_id=case.id, source="billing", category="id_details", label="Tax ID",
                  value="DE123456789", record_kind="client", record_key="1", context={}),
    ])
    db.session.commit()
    body = client.get(f"/api/v1/requests/{case.reference}", headers=staff_api).json
    assert [(s["name"], s["state"], s["error"]) for s in body["sources"]] == [
        ("analytics", "failed", "analytics: no answer within 60 seconds."),
        ("billing", "done", None)]
    assert [f["value"] for f in body["findings"]] == ["ina@example.com", "•••••••6789"]
    revealed = client.get(f"/api/v1/requests/{case.reference}?reveal=true", headers=staff_api).json
    assert revealed["findings"][1]["value"] == "DE123456789"
    views = db.session.execute(select(AuditEvent.details).where(
        AuditEvent.action == "request.view")).scalars().all()
    assert views == [{"via": "api", "flag": False}, {"via": "api", "flag": True}]
