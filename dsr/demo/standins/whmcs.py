"""A stand-in for WHMCS's API (POST /includes/api.php, responsetype=json) over the demo
billing database."""

import hmac
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from dsr.demo.standins import misbehave, query

CLIENT_COLUMNS = ["id", "firstname", "lastname", "companyname", "email", "address1", "city",
                  "postcode", "country", "phonenumber", "tax_id", "status"]
WRITABLE = {"firstname", "lastname", "companyname", "email", "address1", "address2", "city",
            "state", "postcode", "country", "phonenumber"}


def create_whmcs(database: Path, identifier: str, secret: str) -> Flask:
    """Build the stand-in app for the billing database at `database`."""
    app = Flask("whmcs-standin")
    app.before_request(misbehave(app))

    def rows(sql: str, *params: Any) -> list[dict[str, Any]]:
        return query(database, sql, *params)

    def write(sql: str, *params: Any) -> int:
        connection = sqlite3.connect(database)
        try:
            with connection:
                return connection.execute(sql, params).rowcount
        finally:
            connection.close()

    def error(message: str, status: int = 200) -> ResponseReturnValue:
        return jsonify(result="error", message=message), status

    def page(total: list[dict[str, Any]], listing: str, item: str) -> ResponseReturnValue:
        start = int(request.form.get("limitstart", 0))
        size = int(request.form.get("limitnum", 25))
        chunk = total[start : start + size]
        return jsonify(result="success", totalresults=len(total), startnumber=start,
                       numreturned=len(chunk), **{listing: {item: chunk} if chunk else ""})

    @app.post("/includes/api.php")
    def api() -> ResponseReturnValue:
        form = request.form
        if not (hmac.compare_digest(form.get("identifier", ""), identifier)
                and hmac.compare_digest(form.get("secret", ""), secret)):
            return error("Authentication Failed", 403)
        action = form.get("action", "")
        if action == "WhmcsDetails":
            return jsonify(result="success", whmcs={"version": "8.10.1-standin"})
        if action == "GetClientsDetails":
            key, value = ("email", form["email"]) if "email" in form else ("id", form.get(
                "clientid", ""))
            found = rows(f"SELECT {', '.join(CLIENT_COLUMNS)} FROM tblclients "  # noqa: S608
                         f"WHERE {key} = ?", value)
            if not found:
                return error("Client Not Found")
            return jsonify(result="success", client=found[0])
        if action == "GetContacts":
            return page(rows("SELECT id, userid, firstname, lastname, email, phonenumber "
                             "FROM tblcontacts WHERE userid = ? ORDER BY id",
                             form.get("userid")), "contacts", "contact")
        if action == "GetActivityLog":
            return page(rows("SELECT id, date, description, user, userid, ipaddr AS ipaddress "
                             "FROM tblactivitylog WHERE userid = ? ORDER BY id",
                             form.get("userid")), "activity", "entry")
        if action in ("UpdateClient", "UpdateContact"):
            table, key = ("tblclients", "clientid") if action == "UpdateClient" \
                else ("tblcontacts", "contactid")
            changes = {k: v for k, v in form.items() if k in WRITABLE}
            if not changes:
                return error("Nothing to update")
            assignments = ", ".join(f"{column} = ?" for column in changes)
            updated = write(f"UPDATE {table} SET {assignments} WHERE id = ?",  # noqa: S608
                            *changes.values(), form.get(key))
            if not updated:
                return error("Client ID Not Found" if table == "tblclients"
                             else "Contact ID Not Found")
            return jsonify(result="success", **{key: form.get(key)})
        return error(f"Command Not Found: {action}")

    return app
