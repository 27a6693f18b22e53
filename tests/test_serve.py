"""`flask serve`, the embedded system `make run` starts: the web app, and a job consumer forked
from it that stops with it."""

import secrets
from pathlib import Path

import requests

from tests import servers
from tests.fixtures.mail import SmtpSink


def test_serve_answers_and_its_consumer_delivers_then_both_stop(
    tmp_path: Path, smtp: SmtpSink, smtp_port: int,
) -> None:
    port = servers.free_port()
    base = f"http://127.0.0.1:{port}"
    instance = tmp_path / "instance"
    servers.write_instance(instance, {
        "SECRET_KEY": secrets.token_hex(32), "AUDIT_KEYS": {"test": secrets.token_hex(32)},
        "AUDIT_WITNESS_FILE": str(tmp_path / "witness" / "heads.log"), "PUBLIC_URL": base,
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port,
    })
    env = servers.environment(instance)
    upgraded = servers.flask(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr[-2000:]
    serve = servers.Process("serve", [servers.BIN / "flask", "serve", "--port", str(port)],
                            tmp_path / "serve.log", env)
    serve.start()
    try:
        serve.wait_listening(port)
        consumers = servers.children(serve.pid)
        assert len(consumers) == 1, serve.output()[-2000:]
        sent = requests.post(f"{base}/api/v1/requests", timeout=30, json={
            "type": "access", "email": "sam.served@example.org", "name": "Sam Served"})
        assert sent.status_code == 202, sent.text
        # The confirmation is a job: only the forked consumer can have sent it.
        (message,) = smtp.wait_for(1, seconds=30)
        assert message["To"] == "sam.served@example.org"
        assert requests.get(f"{base}/requests/new", timeout=30).status_code == 200
    finally:
        serve.stop()
    assert not serve.running()
    for pid in consumers:
        assert not Path(f"/proc/{pid}").exists(), "the consumer outlived serve"
    assert "Consuming jobs with 2 worker(s)" in serve.output()
    assert "Traceback" not in serve.output()

