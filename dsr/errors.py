"""Error pages and JSON errors: a clear message and the right status, never a bare 500."""

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from dsr.engine import TransitionError
from dsr.extensions import db


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _http_error(error: HTTPException) -> ResponseReturnValue:
    db.session.rollback()
    status = error.code or 500
    # A 405 says which methods the URL takes (RFC 9110), whichever way the error is shown.
    headers = {"Allow": ", ".join(error.valid_methods)} \
        if isinstance(error, MethodNotAllowed) and error.valid_methods else {}
    if _wants_json():
        return jsonify(error={"status": status, "message": error.description}), status, headers
    return render_template("errors/error.html", error=error, status=status), status, headers


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    db.session.rollback()
    message = "The form expired or was sent from another page. Go back, reload and try again."
    return render_template("errors/error.html", error=error, status=400, message=message), 400


def _transition_error(error: TransitionError) -> ResponseReturnValue:
    db.session.rollback()
    body = {"status": error.status, "message": error.message, "allowed_triggers": error.allowed}
    if _wants_json():
        return jsonify(error=body), error.status
    return (
        render_template("errors/error.html", error=error, status=error.status,
                        message=error.message, allowed=error.allowed),
        error.status,
    )


def _unexpected(error: Exception) -> ResponseReturnValue:
    db.session.rollback()
    return _http_error(InternalServerError("Something went wrong on our side; nothing was saved."))


def register(app: Flask) -> None:
    """Install dsr's error handlers on `app`."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(TransitionError, _transition_error)
    app.register_error_handler(InternalServerError, _unexpected)
