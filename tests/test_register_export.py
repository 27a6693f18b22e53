"""`flask register export`: the record of processing activities (GDPR Art. 30(1)) for the
supervisory authority, with every field the article asks for, refused with a message while
the controller or dsr's own entry is not declared."""

import csv
import io
import json

from flask import Flask
from flask.testing import FlaskCliRunner

from dsr.demo import sources as demo
from dsr.processing import COLUMNS

ARTICLE_30 = ["(a)", "(b)", "(c)", "(d)", "(e)", "(f)", "(g)"]


def declared(app: Flask) -> None:
    app.config["CONTROLLER"] = demo.CONTROLLER
    app.config["DSR_REGISTER"] = demo.DSR_REGISTER


def test_the_export_holds_every_field_of_article_30_for_each_processing(
    app: Flask, runner: FlaskCliRunner
) -> None:
    declared(app)
    result = runner.invoke(args=["register", "export"])
    assert result.exit_code == 0, result.output
    [header, *rows] = list(csv.reader(io.StringIO(result.output)))
    assert all(any(letter in title for title in header) for letter in ARTICLE_30)
    assert header == [title for _, title in COLUMNS]
    [own] = rows  # no source is configured here: dsr's own processing alone
    entry = dict(zip(header, own, strict=True))
    assert entry["Controller (Art. 30(1)(a))"].startswith("CloudToko GmbH")
    assert entry["Transfers to third countries (e)"] == demo.IN_EEA
    assert "Bank details" in entry["Categories of personal data (c)"]

    as_json = json.loads(runner.invoke(args=["register", "export", "--format", "json"]).output)
    [item] = as_json["record_of_processing_activities"]
    assert item["legal_basis"].startswith("Legal obligation")


def test_the_export_lists_every_source_with_what_it_declared(
    company_app: Flask
) -> None:
    declared(company_app)
    result = company_app.test_cli_runner().invoke(args=["register", "export"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["Processing"].split(" ")[0] for r in rows] == [
        "Requests", "analytics", "billing", "chats", "helpdesk"]
    billing = next(r for r in rows if r["Processing"].startswith("billing"))
    assert billing["Recipients (d)"] == "Demo Bank AG; Archive Partner Ltd"
    assert billing["Automated decisions (Art. 22)"].startswith("None")


def test_without_a_declared_controller_the_export_says_what_to_set(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["register", "export"])
    assert result.exit_code == 1
    assert "CONTROLLER is not set" in result.output
    app.config["CONTROLLER"] = {"name": "X GmbH", "contact": ""}
    app.config["DSR_REGISTER"] = demo.DSR_REGISTER
    result = runner.invoke(args=["register", "export"])
    assert result.exit_code == 1 and "contact" in result.output
