"""The JSON API against its own OpenAPI document, by Schemathesis: every operation fuzzed
from the schema (and its negations), every response checked against what the document
declares; bounded so that the suite keeps its time (issue 13, finding 8)."""

from collections.abc import Iterator

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from dsr.extensions import db
from dsr.models import ApiToken
from tests.factories import make_request
from tests.fixtures.databases import app_on
from tests.fixtures.people import make_user

TOKEN: dict[str, str] = {}
# Examples per operation (and as many of its negations): enough to find what the review
# found, few enough for the suite's time.
EXAMPLES = 40
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on SQLite with a staff token and a few requests to find."""
    from tests.fixtures.databases import migrate

    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'dsr.sqlite'}"
    migrate(url)
    # (Never RATELIMIT_ENABLED=False: the limiter is one object, and the other tests of this
    # process would lose their limits.)
    for app in app_on(url, REQUEST_RATE_LIMIT="100000 per hour"):
        row, token = ApiToken.issue(make_user("api@example.org", "staff"))
        db.session.add(row)
        for state in ("submitted", "verified", "in_review"):
            make_request("access", state)
        db.session.commit()
        TOKEN["value"] = token
        yield app


@pytest.fixture(scope="module")
def api_schema(api_app: Flask) -> schemathesis.BaseSchema:
    # 422 is the documented answer to a body as the document describes it whose content
    # cannot be taken (an address that cannot receive mail, a value not of its kind).
    config = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {
        "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]}}})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app, config=config)


def test_every_operation_answers_as_its_document_says(
        api_schema: schemathesis.BaseSchema) -> None:
    failed, calls = [], []
    for result, mode in ((r, m) for r in api_schema.get_all_operations() for m in MODES):
        operation = result.ok()

        @given(case=operation.as_strategy(mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def conforms(case: schemathesis.Case) -> None:
            calls.append(case.operation.label)
            case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN['value']}"})

        try:
            conforms()
        except Exception as error:  # every operation is tried; all failures are reported
            failed.append(f"{operation.label} ({mode.value}): {error}")
    assert not failed, "\n\n".join(failed)
    documented = {r.ok().label for r in api_schema.get_all_operations()}
    assert len(documented) == 5 and set(calls) == documented, "every operation was called"


def test_a_method_an_operation_does_not_take_gets_405_with_allow(api_app: Flask) -> None:
    client = api_app.test_client()
    for path, allowed in (("/api/v1/requests", {"GET", "POST"}),
                          ("/api/v1/requests/7GQ4-K2MX-9ZRT-0BHD/audit", {"GET"})):
        for method in ("TRACE", "DELETE", "PATCH"):
            response = client.open(path, method=method)
            assert response.status_code == 405, (path, method)
            assert allowed <= set(response.headers["Allow"].split(", ")), (path, method)
            assert "TRACE" not in response.headers["Allow"]
    assert client.open("/", method="TRACE").headers["Allow"], "pages say so too"


def test_unknown_filters_and_parameters_are_refused_not_ignored(api_app: Flask) -> None:
    client = api_app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN['value']}"}
    for query, message in (("type=disclosure", "type must be one of access, correction"),
                           ("state=lost", "state must be one of"),
                           ("sort=due", "Unknown query parameter 'sort'")):
        refused = client.get(f"/api/v1/requests?{query}", headers=auth)
        assert refused.status_code == 400, query
        assert message in refused.json["error"]["message"]
    assert client.get("/api/v1/requests?type=access", headers=auth).status_code == 200
    reference = client.get("/api/v1/requests", headers=auth).json["requests"][0]["id"]
    assert client.get(f"/api/v1/requests/{reference}?reveal=maybe",
                      headers=auth).status_code == 400, "a non-boolean reveal is refused"
