"""A stand-in for Matomo's HTTP API (index.php?module=API, format=JSON) over the demo
analytics database: the PrivacyManager methods, with Matomo's cap of 401 visits per search
(the export holds every column of log_visit, as Matomo's does), and Live.getLastVisitsDetails
over a date range, a page at a time."""

import hashlib
import hmac
import re
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, make_response, request
from flask.typing import ResponseReturnValue

from dsr.adapters.matomo import CAP, PAGES_KEY
from dsr.adapters.matomo_visits import DEVICE_TYPES
from dsr.demo.company import VISITOR_ID
from dsr.demo.standins import misbehave, query

SEGMENT = re.compile(r"(userId|visitIp|visitorId)==(.+)")
# The log_visit column each segment of findDataSubjects compares.
SEGMENT_COLUMNS = {"userId": "user_id", "visitIp": "location_ip", "visitorId": "idvisitor"}


DSR_REQUEST_PAGE = "http://127.0.0.1:5000/requests/new"
COOKIE_SECONDS = 13 * 30 * 86400  # Matomo keeps _pk_id for 13 months


def visitor_cookie(domain: str, site: int = 1) -> str:
    """The name of Matomo's visitor cookie for `site` on `domain`: _pk_id.<site>.<the first
    four hex digits of the SHA-1 of the cookie domain and path>."""
    return f"_pk_id.{site}.{hashlib.sha1(f'{domain}/'.encode()).hexdigest()[:4]}"  # noqa: S324


def create_matomo(database: Path, token: str) -> Flask:
    """Build the stand-in app for the analytics database at `database`."""
    app = Flask("matomo-standin")
    app.before_request(misbehave(app))

    def rows(sql: str, params: list[Any]) -> list[dict[str, Any]]:
        return query(database, sql, *params)

    def error(message: str) -> ResponseReturnValue:
        return jsonify(result="error", message=message)

    @app.route("/website")
    def website() -> ResponseReturnValue:
        """The demo company's website as the demo visitor's browser knows it: a page whose
        Matomo tracker leaves its first-party cookie, which browsers send to every port of
        this host, dsr's request page among them."""
        page = make_response(
            "<!doctype html><title>CloudToko</title><h1>CloudToko hosting</h1>"
            "<p>This browser now carries the analytics cookie of the demo visitor "
            f"(visitor ID {VISITOR_ID}), as if it had browsed the company's website.</p>"
            f'<p><a href="{DSR_REQUEST_PAGE}">Ask what we hold on you</a></p>')
        page.set_cookie(visitor_cookie(request.host.split(":")[0]),
                        f"{VISITOR_ID}.1767225600.", max_age=COOKIE_SECONDS, samesite="Lax")
        return page

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
        if method == "Live.getLastVisitsDetails":
            if params.get("period") != "range" or params.get("date", "").count(",") != 1:
                return error("This stand-in answers period=range&date=FROM,TO only.")
            first, last = params["date"].split(",")
            found = rows("SELECT idvisit, visit_last_action_time FROM log_visit "
                         "WHERE substr(visit_last_action_time, 1, 10) BETWEEN ? AND ? "
                         "ORDER BY visit_last_action_time DESC LIMIT ? OFFSET ?",
                         [first, last, int(params.get("filter_limit", 100)),
                          int(params.get("filter_offset", 0))])
            return jsonify([{"idVisit": v["idvisit"],
                             "lastActionDateTime": v["visit_last_action_time"]}
                            for v in found])
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
