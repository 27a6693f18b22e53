"""A stand-in for WHMCS's API (POST /includes/api.php, responsetype=json) over the demo
billing database.

Besides the switches every stand-in reads, REPLIES (a reply by action) answers an action with
that reply instead of the database's, for tests of replies WHMCS should not send.
"""

import hmac
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from dsr.demo.standins import misbehave, query

CLIENT_COLUMNS = ["id", "firstname", "lastname", "companyname", "email", "address1", "city",
                  "postcode", "country", "phonenumber", "tax_id", "status"]
WRITABLE = {"firstname", "lastname", "companyname", "email", "address1", "address2", "city",
            "state", "postcode", "country", "phonenumber"}


Rows = Callable[..., list[dict[str, Any]]]
Form = Mapping[str, str]


def page(total: list[dict[str, Any]], listing: str, item: str) -> ResponseReturnValue:
    """Answer one page of a listing as WHMCS does: limitstart/limitnum, and "" when empty."""
    start = int(request.form.get("limitstart", 0))
    size = int(request.form.get("limitnum", 25))
    chunk = total[start : start + size]
    return jsonify(result="success", totalresults=len(total), startnumber=start,
                   numreturned=len(chunk), **{listing: {item: chunk} if chunk else ""})


def _of_client(form: Form, key: str) -> tuple[str, str]:
    """The parameters of `WHERE (? = '' OR column = ?)`: the client the request names by
    `key`, or every client's rows when it names none, as WHMCS lists them."""
    return form.get(key, ""), form.get(key, "")


def clients(rows: Rows, form: Form) -> ResponseReturnValue:
    """GetClients: every client, a page at a time, optionally by status."""
    status = form.get("status", "")
    start, size = int(form.get("limitstart", 0)), int(form.get("limitnum", 25))
    # Read by the page, not whole: the bench lists 100,000 clients through here.
    chunk = rows("SELECT id, firstname, lastname, companyname, email, datecreated, "
                 "0 AS groupid, status FROM tblclients WHERE (? = '' OR status = ?) "
                 "ORDER BY id LIMIT ? OFFSET ?", status, status, size, start)
    total = rows("SELECT count(*) AS n FROM tblclients WHERE (? = '' OR status = ?)",
                 status, status)[0]["n"]
    return jsonify(result="success", totalresults=total, startnumber=start,
                   numreturned=len(chunk), clients={"client": chunk} if chunk else "")


def contacts(rows: Rows, form: Form) -> ResponseReturnValue:
    """GetContacts: the contacts of a client (userid)."""
    return page(rows("SELECT id, userid, firstname, lastname, email, phonenumber "
                     "FROM tblcontacts WHERE userid = ? ORDER BY id", form.get("userid")),
                "contacts", "contact")


def activity(rows: Rows, form: Form) -> ResponseReturnValue:
    """GetActivityLog: a client's entries in the activity log (userid)."""
    return page(rows("SELECT id, date, description, user, userid, ipaddr AS ipaddress "
                     "FROM tblactivitylog WHERE userid = ? ORDER BY id", form.get("userid")),
                "activity", "entry")


def pay_methods(rows: Rows, form: Form) -> ResponseReturnValue:
    """GetPayMethods: a client's bank accounts and cards (clientid), not paged."""
    found = rows(
        "SELECT p.id, p.payment_type AS type, p.description, p.gateway_name, p.userid, "
        "p.created_at, b.bank_name, b.acct_holder, b.iban, c.card_type, c.last_four, "
        "c.expiry_date FROM tblpaymethods p "
        "LEFT JOIN tblbankaccts b ON p.payment_type = 'BankAccount' AND b.id = p.payment_id "
        "LEFT JOIN tblcreditcards c ON p.payment_type = 'CreditCard' AND c.id = p.payment_id "
        "WHERE p.userid = ? ORDER BY p.id", form.get("clientid"))
    methods = []
    for row in found:
        method = {"id": row["id"], "type": row["type"], "description": row["description"],
                  "gateway_name": row["gateway_name"], "contact_type": "Client",
                  "contact_id": row["userid"], "last_updated": row["created_at"]}
        if row["type"] == "BankAccount":
            method |= {"bank_name": row["bank_name"], "account_type": "Checking",
                       "account_holder_name": row["acct_holder"], "routing_number": "",
                       "account_number": row["iban"]}
        else:
            method |= {"card_last_four": row["last_four"], "expiry_date": row["expiry_date"],
                       "start_date": "", "issue_number": "", "card_type": row["card_type"],
                       "remote_token": ""}
        methods.append(method)
    return jsonify(result="success", clientid=form.get("clientid"), paymethods=methods)


def invoices(rows: Rows, form: Form) -> ResponseReturnValue:
    """GetInvoices: invoices, of a client if it names one (userid)."""
    found = rows("SELECT i.id, i.userid, c.firstname, c.lastname, c.companyname, i.invoicenum, "
                 "i.date, i.duedate, i.datepaid, i.subtotal, '0.00' AS credit, i.tax, "
                 "'0.00' AS tax2, i.total, i.status, i.paymentmethod, '' AS notes, "
                 "'EUR' AS currencycode, '€' AS currencyprefix, ' EUR' AS currencysuffix "
                 "FROM tblinvoices i JOIN tblclients c ON c.id = i.userid "
                 "WHERE (? = '' OR i.userid = ?) ORDER BY i.id", *_of_client(form, "userid"))
    return page(found, "invoices", "invoice")


def invoice(rows: Rows, form: Form) -> ResponseReturnValue:
    """GetInvoice: one invoice with its line items (invoiceid)."""
    found = rows("SELECT id AS invoiceid, invoicenum, userid, date, duedate, datepaid, "
                 "subtotal, '0.00' AS credit, tax, total, status, paymentmethod "
                 "FROM tblinvoices WHERE id = ?", form.get("invoiceid"))
    if not found:
        return jsonify(result="error", message="Invoice ID Not Found")
    items = rows("SELECT id, type, relid, description, amount, 0 AS taxed "
                 "FROM tblinvoiceitems WHERE invoiceid = ? ORDER BY id", form.get("invoiceid"))
    paid = found[0]["status"] == "Paid"
    return jsonify(result="success", **found[0], balance="0.00" if paid else found[0]["total"],
                   items={"item": items} if items else "", transactions="")


def products(rows: Rows, form: Form) -> ResponseReturnValue:
    """GetClientsProducts: services, of a client if it names one (clientid)."""
    found = rows("SELECT h.id, h.userid AS clientid, h.packageid AS pid, h.regdate, p.name, "
                 "p.name AS translated_name, g.name AS groupname, h.domain, "
                 "h.firstpaymentamount, h.amount AS recurringamount, h.paymentmethod, "
                 "h.billingcycle, h.nextduedate, h.domainstatus AS status, '' AS username "
                 "FROM tblhosting h JOIN tblproducts p ON p.id = h.packageid "
                 "JOIN tblproductgroups g ON g.id = p.gid "
                 "WHERE (? = '' OR h.userid = ?) ORDER BY h.id", *_of_client(form, "clientid"))
    return page(found, "products", "product")


def domains(rows: Rows, form: Form) -> ResponseReturnValue:
    """GetClientsDomains: domain registrations, of a client if it names one (clientid)."""
    found = rows("SELECT id, userid, type AS regtype, domain AS domainname, registrar, "
                 "registrationperiod AS regperiod, firstpaymentamount, recurringamount, "
                 "paymentmethod, registrationdate AS regdate, expirydate, nextduedate, status "
                 "FROM tbldomains WHERE (? = '' OR userid = ?) ORDER BY id",
                 *_of_client(form, "clientid"))
    return page(found, "domains", "domain")


def emails(rows: Rows, form: Form) -> ResponseReturnValue:
    """GetEmails: the e-mails sent to a client (clientid, which WHMCS requires)."""
    if not form.get("clientid"):
        return jsonify(result="error", message="Client ID Not Found")
    found = rows('SELECT id, userid, subject, message, date, "to", cc, bcc, 0 AS pending '
                 "FROM tblemails WHERE userid = ? ORDER BY id", form["clientid"])
    return page(found, "emails", "email")


def tickets(rows: Rows, form: Form) -> ResponseReturnValue:
    """GetTickets: support tickets, of a client if it names one (clientid)."""
    found = rows("SELECT id, tid, did AS deptid, userid, name, email, '' AS cc, date, "
                 "title AS subject, status, urgency AS priority, '' AS admin, lastreply, "
                 "0 AS flag, '' AS service, name AS requestor_name, email AS requestor_email, "
                 "'Owner' AS requestor_type FROM tbltickets WHERE (? = '' OR userid = ?) "
                 "ORDER BY id", *_of_client(form, "clientid"))
    return page(found, "tickets", "ticket")


def departments(rows: Rows, form: Form) -> ResponseReturnValue:
    """GetSupportDepartments: the support departments and their names."""
    found = rows("SELECT id, name, 0 AS awaitingreply, 0 AS opentickets "
                 "FROM tblticketdepartments ORDER BY id")
    return jsonify(result="success", totalresults=len(found),
                   departments={"department": found} if found else "")


READERS: dict[str, Callable[[Rows, Form], ResponseReturnValue]] = {
    "GetClients": clients, "GetContacts": contacts, "GetActivityLog": activity,
    "GetPayMethods": pay_methods,
    "GetInvoices": invoices, "GetInvoice": invoice, "GetClientsProducts": products,
    "GetClientsDomains": domains, "GetEmails": emails, "GetTickets": tickets,
    "GetSupportDepartments": departments,
}


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

    @app.post("/includes/api.php")
    def api() -> ResponseReturnValue:
        form = request.form
        if not (hmac.compare_digest(form.get("identifier", ""), identifier)
                and hmac.compare_digest(form.get("secret", ""), secret)):
            return error("Authentication Failed", 403)
        action = form.get("action", "")
        if action in app.config.get("REPLIES", {}):
            return jsonify(app.config["REPLIES"][action])
        if action in READERS:
            return READERS[action](rows, form)
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

