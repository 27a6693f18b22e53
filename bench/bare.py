"""A bare Flask route, the floor bench/queue_page.py measures the staff queue page against: served
by the same gunicorn settings, it does nothing but answer."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def home() -> str:
    return "<!doctype html><title>Bare</title><p>A bare Flask route.</p>"
