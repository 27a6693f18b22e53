"""The black-box review's findings (issue 13), each reproduced the way it was found and shown
fixed."""

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dsr.database import utcnow
from dsr.extensions import db
from dsr.models import AuditEvent
from tests.factories import make_request
from tests.fixtures.people import csrf_token, link, mails, press

ADDRESS = "rosa.rivera@example.com"


def subject_signed_in(client: FlaskClient, email: str = ADDRESS) -> None:
    client.post("/my/sign-in", data={"email": email,
                                     "csrf_token": csrf_token(client, "/my/sign-in")})
    press(client, link(mails("sign-in")[-1]))
    assert client.get("/my/").status_code == 200


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of `client`'s session cookie, taken now."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def test_1_a_copy_of_a_subjects_cookie_dies_with_the_sign_out(app: Flask,
                                                              client: FlaskClient) -> None:
    case = make_request("access", "fulfilled", email=ADDRESS)
    case.verified_at = utcnow()
    db.session.commit()
    subject_signed_in(client)
    stolen = copy_of(app, client)
    assert stolen.get("/my/").status_code == 200, "the copy works while the session lasts"

    elsewhere = app.test_client()
    subject_signed_in(elsewhere)
    signed_out = client.post("/my/sign-out", data={"csrf_token": csrf_token(client, "/my/")})
    assert signed_out.status_code == 302
    for browser in (client, stolen, elsewhere):
        page = browser.get("/my/")
        assert page.status_code == 302 and page.location.endswith("/my/sign-in"), \
            "a sign-out ends every session of the address, copies included"
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "subject.sign_out")).first() is not None


PAGES = ["/", "/requests/new", "/my/sign-in", "/staff/sign-in", "/policy"]


def test_4_every_page_carries_the_security_headers_and_is_not_stored(
        client: FlaskClient) -> None:
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        headers = response.headers
        policy = headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                          "frame-ancestors 'none'", "object-src 'none'"):
            assert directive in policy, (url, directive)
        assert "unsafe-inline" not in policy
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "camera=()" in headers["Permissions-Policy"]
        assert headers["Cache-Control"] == "no-store", url
        assert "Strict-Transport-Security" not in headers, "plain HTTP: no HSTS"
    css = client.get("/static/dsr.css")
    assert css.headers.get("Cache-Control") != "no-store", "static files may be cached"
    css.close()


def test_4_hsts_once_served_over_https_or_behind_a_proxy_that_says_so(
        client: FlaskClient) -> None:
    secure = client.get("/", base_url="https://privacy.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    proxied = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in proxied.headers


def test_4_pages_with_personal_data_are_not_stored(app: Flask, client: FlaskClient) -> None:
    case = make_request("access", "fulfilled", email=ADDRESS)
    case.verified_at = utcnow()
    db.session.commit()
    subject_signed_in(client)
    assert client.get("/my/").headers["Cache-Control"] == "no-store"
    staff = app.test_client()
    from tests.fixtures.people import make_user, sign_in
    make_user("staff@example.org", "staff")
    sign_in(staff, "staff@example.org")
    page = staff.get(f"/console/requests/{case.reference}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"


def test_5_a_flood_in_a_victims_name_does_not_lock_them_out(app: Flask,
                                                           client: FlaskClient) -> None:
    case = make_request("access", "fulfilled", email=ADDRESS)
    case.verified_at = utcnow()
    db.session.commit()
    attacker = app.test_client()
    for typed in ("Rosa.Rivera@example.com", "ROSA.RIVERA@EXAMPLE.COM", ADDRESS):
        attacker.post("/requests/new", data={
            "type": "access", "email": typed, "name": "Not Rosa",
            "csrf_token": csrf_token(attacker, "/requests/new")})
    assert len(mails("verification")) == 3

    other = app.test_client()
    ordinary = other.post("/my/sign-in", data={"email": "someone.else@example.com",
                                               "csrf_token": csrf_token(other, "/my/sign-in")})
    answer = client.post("/my/sign-in", data={"email": ADDRESS,
                                               "csrf_token": csrf_token(client, "/my/sign-in")})
    assert answer.status_code == ordinary.status_code == 200, "the owner is not refused"
    assert answer.get_data() == ordinary.get_data(), "nor told anything different"
    assert mails("sign-in") == [], "the budget of e-mails to the address is spent"
    [digest] = mails("digest")
    assert digest.to_address == ADDRESS and "Your sign-in link" in digest.body
    press(client, link(digest))
    assert client.get("/my/").status_code == 200, "the link in their mailbox signs them in"


def test_7_link_tokens_and_query_secrets_are_cut_from_every_log(app: Flask) -> None:
    import logging

    import requests

    from dsr.web import logs
    from tests.fixtures.browser import served

    token_routes = sorted(rule.rule for rule in app.url_map.iter_rules()
                          if "token" in rule.arguments)
    assert [route.rsplit("<", 1)[0] for route in token_routes] == sorted(logs.TOKEN_PATHS), \
        "every route with a token in its path is cut from the logs"
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    watched = ("werkzeug", "urllib3.connectionpool")
    for name in watched:
        logging.getLogger(name).addHandler(handler)
    levels = {name: logging.getLogger(name).level for name in watched}
    logging.getLogger("urllib3.connectionpool").setLevel(logging.DEBUG)
    logging.getLogger("werkzeug").setLevel(logging.INFO)
    try:
        with served(app) as base:
            requests.get(f"{base}/requests/verify/SeCrEtToKeN.abc", timeout=5)
            requests.get(f"{base}/?e=/Base/User&apikey=KEY123&salt=SALT9&signature=SIG%3D",
                         timeout=5)
    finally:
        for name, level in levels.items():
            logging.getLogger(name).removeHandler(handler)
            logging.getLogger(name).setLevel(level)
    logged = "\n".join(records)
    assert "/requests/verify/[cut]" in logged
    for secret in ("SeCrEtToKeN", "KEY123", "SALT9", "SIG%3D"):
        assert secret not in logged, secret
    assert "apikey=[cut]" in logged


def test_7_the_development_mailbox_answers_only_on_the_loopback(client: FlaskClient) -> None:
    assert client.get("/dev/mailbox/").status_code == 200
    remote = client.get("/dev/mailbox/", environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert remote.status_code == 404


def test_7_no_development_mailbox_outside_the_demo(sqlite_url: str) -> None:
    from tests.fixtures.databases import app_on

    for app in app_on(sqlite_url, TESTING=False, DEBUG=True, SECRET_KEY="k" * 40):
        assert app.test_client().get("/dev/mailbox/").status_code == 404


def test_7_an_upload_must_open_as_what_it_says_it_is(app: Flask, tmp_path) -> None:
    import io

    from PIL import Image

    from tests.fixtures.legal import PDF, legal, open_record

    app.config["DISCLOSURE_DOCUMENTS"] = str(tmp_path / "documents")
    client = legal(app, "first@example.org")
    png = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(png, format="PNG")
    signature_only = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    header_only = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    for data, name, kind in ((signature_only, "scan.png", "an image"),
                             (header_only, "order.pdf", "a PDF")):
        refused = open_record(client, documents=[(io.BytesIO(data), name)])
        assert refused.status_code == 400, name
        assert f"{name} does not open as {kind}" in refused.get_data(as_text=True)
    taken = open_record(client, documents=[(io.BytesIO(png.getvalue()), "scan.png"),
                                           (io.BytesIO(PDF), "order.pdf")])
    assert taken.status_code == 302


def test_7_csv_exports_never_hand_a_spreadsheet_a_formula() -> None:
    import csv
    import io

    from dsr import processing

    row = {key: "=HYPERLINK(\"http://evil.example\")" for key, _ in processing.COLUMNS}
    row["recipients"] = "+49 30 1234567"
    [read] = list(csv.reader(io.StringIO(processing.as_csv([row]))))[1:]
    assert read[0] == "'=HYPERLINK(\"http://evil.example\")"
    assert "+49 30 1234567" in read, "a telephone number stays as written"
