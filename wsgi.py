"""The WSGI entry point: the only module that creates an app at import (gunicorn wsgi:app)."""

from dsr import create_app

app = create_app()
