"""A stand-in for Matomo's HTTP API (index.php?module=API, format=JSON): the PrivacyManager
methods over the demo analytics database, with Matomo's cap of 401 visits per search; the
export holds every column of log_visit, as Matomo's does."""

import hmac
import re
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from dsr.adapters.matomo import CAP, PAGES_KEY
from dsr.adapters.matomo_visits import DEVICE_TYPES
from dsr.demo.standins import misbehave, query

SEGMENT = re.compile(r"(userId|visitIp|visitorId)==(.+)")
# The log_visit column each segment of findDataSubjects compares.
SEGMENT_COLUMNS = {"userId": "user_id", "visitIp": "location_ip", "visitorId": "idvisitor"}


def create_matomo(database: Path, token: str) -> Flask:
    """Build the stand-in app for the analytics database at `database`."""
    app = Flask("matomo-standin")
    app.before_request(misbehave(app))

    def rows(sql: str, params: list[Any]) -> list[dict[str, Any]]:
        return query(database, sql, *params)

    def error(message: str) -> ResponseReturnValue:
        return jsonify(result="error", message=message)

    @app.route("/index.php", methods=["GET", "POST"])
    def api() -> ResponseReturnValue:
        params = request.values
        if params.get("module") != "API" or params.get("format", "").upper() != "JSON":
            return error("This stand-in answers module=API&format=JSON only.")
        if not hmac.compare_digest(params.get("token_auth", ""), token):
            return error("You can't access this resource as it requires 'admin' access.")
        method = params.get("method", "")
        if method == "API.getMatomoVersion":
            return jsonify(value="5.1.0-standin")
        if method == "PrivacyManager.findDataSubjects":
            match = SEGMENT.fullmatch(params.get("segment", ""))
            if not match:
                return error("The segment is not supported by this stand-in.")
            column = SEGMENT_COLUMNS[match.group(1)]
            found = rows(f"SELECT * FROM log_visit WHERE {column} = ? "  # noqa: S608
                         "ORDER BY visit_last_action_time DESC LIMIT ?",
                         [match.group(2), CAP])
            return jsonify([{
                "idVisit": v["idvisit"], "idSite": v["idsite"], "siteName": "CloudToko",
                "visitorId": v["idvisitor"], "visitIp": v["location_ip"],
                "userId": v["user_id"], "lastActionDateTime": v["visit_last_action_time"],
                "deviceType": DEVICE_TYPES.get(v.get("config_device_type") or 0, "desktop"),
            } for v in found])
        if method == "PrivacyManager.exportDataSubjects":
            ids = [int(params[f"visits[{i}][idvisit]"]) for i in range(len(params))
                   if f"visits[{i}][idvisit]" in params]
            if not ids:
                return jsonify([])
            marks = ", ".join("?" * len(ids))
            visits = rows("SELECT * FROM log_visit "  # noqa: S608
                          f"WHERE idvisit IN ({marks}) ORDER BY idvisit", ids)
            actions = rows(f"SELECT idlink_va, idsite, idvisit, idaction_url, server_time, "  # noqa: S608
                           f"time_spent FROM log_link_visit_action WHERE idvisit IN ({marks}) "
                           "ORDER BY idlink_va", ids)
            names = rows(f"SELECT DISTINCT a.idaction, a.name FROM log_action a JOIN "  # noqa: S608
                         f"log_link_visit_action l ON l.idaction_url = a.idaction "
                         f"WHERE l.idvisit IN ({marks}) ORDER BY a.idaction", ids)
            return jsonify({"log_visit": visits, "log_link_visit_action": actions,
                            PAGES_KEY: names})
        return error(f"The method '{method}' does not exist or is not available.")

    return app
