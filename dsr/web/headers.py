"""The headers every response carries (Flask-Talisman): a content security policy with no
inline script or style and no framing, no referrer, no sniffing, no powerful features, HSTS
once served over HTTPS (or behind a proxy that says so); and `Cache-Control: no-store` on
everything but the static files, since nearly every page and download shows someone's data."""

from flask import Flask, Response, request
from flask_talisman import Talisman

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Nothing dsr does needs these; a page that is framed or scripted against dsr cannot ask.
PERMISSIONS = {feature: "()" for feature in (
    "camera", "microphone", "geolocation", "payment", "usb", "interest-cohort",
    "browsing-topics", "display-capture", "fullscreen")}


def _no_store(response: Response) -> Response:
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Set the app's security headers. HTTPS itself is the proxy's: Talisman redirects
    nothing, and leaves the cookie settings as configured."""
    Talisman(app, force_https=False, content_security_policy=CSP,
             permissions_policy=PERMISSIONS, frame_options="DENY",
             referrer_policy="no-referrer",
             session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
             session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"])
    app.after_request(_no_store)
