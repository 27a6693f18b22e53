"""The set-up commands: migrations match the models, demo data, workflow diagrams."""

import re

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from dsr import audit
from dsr.extensions import db
from dsr.models import Request
from tests.factories import make_request
from tests.fixtures.people import sign_in


def test_migrations_build_exactly_the_models_schema(app: Flask) -> None:
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_db_upgrade_again_keeps_schema_and_data(app: Flask, runner: FlaskCliRunner) -> None:
    make_request("access")
    tables = sorted(sqlalchemy.inspect(db.engine).get_table_names())
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert sorted(sqlalchemy.inspect(db.engine).get_table_names()) == tables
    assert db.session.execute(select(func.count(Request.id))).scalar_one() == 1
    assert audit.verify().intact


def test_demo_seed_prints_working_credentials_and_can_run_twice(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient
) -> None:
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "Demo requests created: 7." in first.output
    second = runner.invoke(args=["demo", "seed"])
    assert "Demo requests created: 0." in second.output
    assert db.session.execute(select(func.count(Request.id)).where(
        Request.type != "disclosure")).scalar_one() == 7

    credentials = dict(re.findall(r"^\s+(\S+@demo\.example\.org)\s+(\S+)$", second.output, re.M))
    assert sorted(credentials) == [
        "admin@demo.example.org", "counsel@demo.example.org", "legal@demo.example.org",
        "staff@demo.example.org",
    ]
    assert sign_in(client, "staff@demo.example.org", credentials["staff@demo.example.org"]
                   ).status_code == 302
    page = client.get("/console/").get_data(as_text=True)
    from dsr.demo import company

    mentioning = company.customers(company.MENTIONING)[-1]
    assert "7 requests" in page and f"{mentioning.first} {mentioning.last}" in page
    legal = app.test_client()
    sign_in(legal, "legal@demo.example.org", credentials["legal@demo.example.org"])
    register = legal.get("/legal/").get_data(as_text=True)
    assert "Landeskriminalamt Berlin" in register and "emergency</strong>" in register
    assert audit.verify().intact


@pytest.mark.parametrize("name", ["access", "correction", "disclosure"])
def test_workflows_draw_prints_a_mermaid_diagram(runner: FlaskCliRunner, name: str) -> None:
    result = runner.invoke(args=["workflows", "draw", name])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "stateDiagram-v2"
    initial = {"access": "submitted", "correction": "submitted", "disclosure": "received"}[name]
    assert f"    [*] --> {initial}" in lines
    assert "    closed --> [*]" in lines


def test_workflows_draw_refuses_an_unknown_workflow(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["workflows", "draw", "erasure"])
    assert result.exit_code == 2
    assert "'erasure' is not one of" in result.output
