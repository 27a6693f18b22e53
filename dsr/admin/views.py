"""The admin's start page: the parts of dsr an admin looks after in the browser."""

from flask import Blueprint, render_template

from dsr.auth import roles_required

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


@blueprint.route("/")
@roles_required("admin")
def index() -> str:
    """List what an admin manages here and on the server."""
    return render_template("admin/index.html")
