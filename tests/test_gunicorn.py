"""Production serving: real gunicorn from the repository's config, over HTTP on loopback."""

from __future__ import annotations

import http.client
import json
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import DEFAULT_CORPUS, ROOT

CONFIG = ROOT / "gunicorn.conf.py"
START_TIMEOUT = 60
STOP_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, data: dict | None = None, headers: dict | None = None):
    """(status, headers, decoded JSON body) of a GET, or of a JSON POST when data is given."""
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, headers=headers or {})
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def wait_until_ready(base: str, process: subprocess.Popen, log: Path) -> dict:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            status, _, body = fetch(f"{base}/readyz")
            if status == 200:
                return body
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn was not ready within {START_TIMEOUT} s:\n{log.read_text()}")


@pytest.fixture
def gunicorn(engine, tmp_path):
    """A gunicorn of two workers on a free loopback port, reusing the session's index."""
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "QA_HOST": "127.0.0.1",
        "QA_PORT": str(port),
        "QA_WORKERS": "2",
        "QA_CORPUS": str(DEFAULT_CORPUS),
        "QA_INDEX": str(engine.index_dir),
        "QA_RATE_LIMIT": "1000/minute",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(CONFIG)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            # Its own process group, so the workers can be killed with it if it hangs.
            start_new_session=True,
        )
    try:
        yield process, f"http://127.0.0.1:{port}", log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)


def test_gunicorn_serves_a_cited_answer(gunicorn):
    process, base, log = gunicorn
    ready = wait_until_ready(base, process, log)
    assert ready["status"] == "ready" and ready["documents"] == 2

    status, headers, body = fetch(
        f"{base}/api/ask",
        {"question": "How many civilians fled Al-Hasakah?", "k": 3},
        headers={"X-Request-ID": "gunicorn-test-1"},
    )
    assert status == 200
    assert "4,000+ civilians fled" in body["answer"]
    assert body["citations"][0]["document"]["id"] == "al-hasakah-city-offensive"
    assert len(body["citations"]) <= 3
    assert headers["X-Request-ID"] == "gunicorn-test-1"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]

    status, _, body = fetch(f"{base}/api/ask", {"question": ""})
    assert status == 400
    assert body["error"]["code"] == "bad_request"

    # A chunked body has no Content-Length; it is held to the 64 KB limit all the same.
    connection = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=10)
    chunks = [b'{"question": "', *[b"a" * 8192] * 8, b'"}']
    connection.request(
        "POST",
        "/api/ask",
        body=iter(chunks),
        headers={"Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["error"]["code"] == "payload_too_large"
    connection.close()

    # SIGTERM is a graceful stop: the workers finish, the master exits cleanly.
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=STOP_TIMEOUT) == 0
    text = log.read_text()
    # Access log lines carry the request id and the time taken.
    assert re.search(r'gunicorn-test-1 "POST /api/ask HTTP/1\.1" 200 \d+ \d+ms', text), text
    assert text.count("Booting worker") == 2
    assert "Shutting down" in text


def test_the_config_reads_the_environment(monkeypatch):
    monkeypatch.setenv("QA_HOST", "0.0.0.0")
    monkeypatch.setenv("QA_PORT", "9001")
    monkeypatch.setenv("QA_WORKERS", "3")
    settings = runpy.run_path(str(CONFIG))
    assert settings["bind"] == "0.0.0.0:9001"
    assert settings["workers"] == 3
    assert settings["wsgi_app"] == "qa.wsgi:app"
    assert settings["preload_app"] is True
    assert settings["graceful_timeout"] > 0
    assert "%({x-request-id}o)s" in settings["access_log_format"]


def test_the_config_defaults_to_loopback_and_one_worker_per_cpu(monkeypatch):
    for name in ("QA_HOST", "QA_PORT", "QA_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    settings = runpy.run_path(str(CONFIG))
    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["workers"] == len(os.sched_getaffinity(0))
