"""A stand-in for Kayako Classic's REST API (/api/index.php?e=..., XML replies, requests signed
with base64(HMAC-SHA256(secret key, salt))) over the demo helpdesk database."""

import base64
import hashlib
import hmac
import re
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from flask import Flask, Response, request

from dsr.demo.standins import misbehave, query

USER_PATH = re.compile(r"/Base/UserOrganization/(\d+)")
POSTS_PATH = re.compile(r"/Tickets/TicketPost/ListAll/(\d+)")


def _xml(root: Element) -> Response:
    return Response(b'<?xml version="1.0" encoding="UTF-8"?>' + tostring(root),
                    content_type="text/xml; charset=utf-8")


def _add(parent: Element, tag: str, value: Any) -> None:
    SubElement(parent, tag).text = "" if value is None else str(value)


def create_kayako(database: Path, api_key: str, secret_key: str) -> Flask:
    """Build the stand-in app for the helpdesk database at `database`."""
    app = Flask("kayako-standin")
    app.before_request(misbehave(app))

    def rows(sql: str, *params: Any) -> list[dict[str, Any]]:
        return query(database, sql, *params)

    def signed() -> bool:
        values = request.values
        expected = base64.b64encode(hmac.new(secret_key.encode(), values.get("salt", "").encode(),
                                             hashlib.sha256).digest()).decode()
        return hmac.compare_digest(values.get("apikey", ""), api_key) and \
            hmac.compare_digest(values.get("signature", ""), expected)

    def user_search(query: str) -> Element:
        like = f"%{query.lower()}%"
        found = rows("SELECT DISTINCT u.* FROM swusers u LEFT JOIN swuseremails e ON "
                     "e.linktype = 1 AND e.linktypeid = u.userid LEFT JOIN swuserorganizations o "
                     "ON o.userorganizationid = u.userorganizationid WHERE lower(e.email) LIKE ? "
                     "OR lower(u.fullname) LIKE ? OR u.phone LIKE ? OR "
                     "lower(o.organizationname) LIKE ? ORDER BY u.userid", like, like, like, like)
        root = Element("users")
        for user in found:
            node = SubElement(root, "user")
            _add(node, "id", user["userid"])
            _add(node, "usergroupid", 2)
            _add(node, "userorganizationid", user["userorganizationid"] or 0)
            _add(node, "fullname", user["fullname"])
            for email in rows("SELECT email FROM swuseremails WHERE linktype = 1 AND "
                              "linktypeid = ? ORDER BY useremailid", user["userid"]):
                _add(node, "email", email["email"])
            _add(node, "designation", user["designation"])
            _add(node, "phone", user["phone"])
            _add(node, "dateline", user["dateline"])
            _add(node, "lastvisit", user["lastvisit"])
            _add(node, "isenabled", 1)
        return root

    def organisation(organisation_id: str) -> Element:
        root = Element("userorganizations")
        for org in rows("SELECT * FROM swuserorganizations WHERE userorganizationid = ?",
                        organisation_id):
            node = SubElement(root, "userorganization")
            _add(node, "id", org["userorganizationid"])
            _add(node, "name", org["organizationname"])
            for column in ("address", "city", "postalcode", "country", "phone"):
                _add(node, column, org[column])
        return root

    def ticket_search(query: str) -> Element:
        root = Element("tickets")
        for ticket in rows("SELECT * FROM swtickets WHERE lower(email) LIKE ? OR "
                           "lower(subject) LIKE ? ORDER BY ticketid",
                           f"%{query.lower()}%", f"%{query.lower()}%"):
            node = SubElement(root, "ticket", id=str(ticket["ticketid"]))
            _add(node, "displayid", ticket["ticketmaskid"])
            _add(node, "userid", ticket["userid"])
            _add(node, "fullname", ticket["fullname"])
            _add(node, "email", ticket["email"])
            _add(node, "subject", ticket["subject"])
            _add(node, "ipaddress", ticket["ipaddress"])
            _add(node, "creationtime", ticket["dateline"])
            _add(node, "lastactivity", ticket["lastactivity"])
        return root

    def posts(ticket_id: str) -> Element:
        root = Element("posts")
        for post in rows("SELECT * FROM swticketposts WHERE ticketid = ? ORDER BY ticketpostid",
                         ticket_id):
            node = SubElement(root, "post")
            for column, tag in (("ticketpostid", "id"), ("ticketid", "ticketid"),
                                ("dateline", "dateline"), ("userid", "userid"),
                                ("fullname", "fullname"), ("email", "email"),
                                ("ipaddress", "ipaddress"), ("creator", "creator"),
                                ("contents", "contents")):
                _add(node, tag, post[column])
        return root

    @app.route("/api/index.php", methods=["GET", "POST"])
    def api() -> Response:
        if not signed():
            return Response("Access Denied", status=401, content_type="text/plain")
        path = request.args.get("e", "")
        if path == "/Base/UserGroup":
            root = Element("usergroups")
            for title in ("Guest", "Registered"):
                _add(SubElement(root, "usergroup"), "title", title)
            return _xml(root)
        if path == "/Base/UserSearch" and request.method == "POST":
            return _xml(user_search(request.form.get("query", "")))
        if path == "/Tickets/TicketSearch" and request.method == "POST":
            return _xml(ticket_search(request.form.get("query", "")))
        if match := USER_PATH.fullmatch(path):
            return _xml(organisation(match.group(1)))
        if match := POSTS_PATH.fullmatch(path):
            return _xml(posts(match.group(1)))
        return Response("Unknown controller", status=404, content_type="text/plain")

    return app
