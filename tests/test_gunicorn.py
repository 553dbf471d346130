"""Production serving: real gunicorn from the repository's config, over HTTP on loopback.

Besides answering, gunicorn must survive what production throws at it: a worker killed mid-load
is replaced and only the requests in flight on it may fail; a slow client holds a worker no
longer than the configured timeout; and the requests it refuses itself get the JSON error shape.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import runpy
import select
import signal
import socket
import threading
import time
import urllib.request

import pytest

from qa.tools import processes, serving
from qa.tools.load import Load, get, post
from qa.tools.serving import CONFIG, fetch
from tests.helpers import DEFAULT_CORPUS


def server_env(engine, **extra: str) -> dict[str, str]:
    """The environment of a gunicorn serving the default corpus from the session's index."""
    return {
        "QA_CORPUS": str(DEFAULT_CORPUS),
        "QA_INDEX": str(engine.index_dir),
        "QA_RATE_LIMIT": "off",
        **extra,
    }


@pytest.fixture
def gunicorn(engine, tmp_path):
    """A gunicorn of two workers on a free loopback port, reusing the session's index."""
    with serving.Gunicorn(
        server_env(engine, QA_RATE_LIMIT="1000/minute"), tmp_path / "gunicorn.log"
    ) as server:
        yield server


@pytest.fixture(scope="module")
def served(engine, tmp_path_factory):
    """A ready gunicorn shared by the tests that only send requests to it."""
    log = tmp_path_factory.mktemp("served") / "gunicorn.log"
    with serving.Gunicorn(server_env(engine), log) as server:
        server.wait_ready()
        yield server


def test_gunicorn_serves_a_cited_answer(gunicorn):
    process, base, log = gunicorn.process, gunicorn.base_url, gunicorn.log
    ready = gunicorn.wait_ready()
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
    connection = http.client.HTTPConnection("127.0.0.1", gunicorn.port, timeout=10)
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
    assert process.wait(timeout=serving.STOP_TIMEOUT) == 0
    text = log.read_text()
    # Access log lines carry the request id and the time taken.
    assert re.search(r'gunicorn-test-1 "POST /api/ask HTTP/1\.1" 200 \d+ \d+ms', text), text
    assert text.count("Booting worker") == 2
    assert "Shutting down" in text


def test_the_config_reads_the_environment(monkeypatch):
    monkeypatch.setenv("QA_HOST", "0.0.0.0")
    monkeypatch.setenv("QA_PORT", "9001")
    monkeypatch.setenv("QA_WORKERS", "3")
    monkeypatch.setenv("QA_TIMEOUT", "7")
    settings = runpy.run_path(str(CONFIG))
    assert settings["bind"] == "0.0.0.0:9001"
    assert settings["workers"] == 3
    assert settings["timeout"] == 7
    assert settings["wsgi_app"] == "qa.wsgi:app"
    assert settings["preload_app"] is True
    assert settings["graceful_timeout"] > 0
    assert "%({x-request-id}o)s" in settings["access_log_format"]


def test_the_config_defaults_to_loopback_and_one_worker_per_cpu(monkeypatch):
    for name in ("QA_HOST", "QA_PORT", "QA_WORKERS", "QA_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    settings = runpy.run_path(str(CONFIG))
    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["workers"] == len(os.sched_getaffinity(0))
    # A slow client holds a worker at most this long; answers take milliseconds.
    assert settings["timeout"] == 10
    assert settings["limit_request_line"] == 8190
    assert settings["limit_request_fields"] == 50
    assert settings["limit_request_field_size"] == 8190


# ---------- a worker killed under load ----------


def successes_since(load: Load, since: float) -> int:
    return sum(1 for o in list(load.outcomes) if o.start > since and o.error is None)


def wait_for_successes(load: Load, since: float, count: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while successes_since(load, since) < count:
        assert time.monotonic() < deadline, f"fewer than {count} answers in {timeout} s"
        time.sleep(0.02)


def test_a_killed_worker_is_replaced_and_only_its_requests_fail(engine, tmp_path):
    clients = 4
    asks = [
        post("fixed", "How many civilians fled Al-Hasakah?"),
        get("Who recaptured the Kwayres air base?", random.Random(0)),
    ]
    with serving.Gunicorn(server_env(engine), tmp_path / "gunicorn.log") as server:
        server.wait_ready()
        originals = processes.children(server.pid)
        load = Load(server.base_url, asks, clients, seconds=60, limit=20_000).start()
        kills: list[float] = []
        try:
            # Each original worker in turn, so that the replacements are shown to answer alone.
            for victim in originals:
                wait_for_successes(load, kills[-1] if kills else 0.0, 20)
                kills.append(time.monotonic())
                os.kill(victim, signal.SIGKILL)
                workers = server.wait_for_workers(without=set(originals[: len(kills)]))
            replaced = time.monotonic()
            wait_for_successes(load, replaced, 50)
        finally:
            outcomes = load.stop()
        log = server.log.read_text()

    assert set(workers).isdisjoint(originals) and len(workers) == 2
    assert log.count("Booting worker") == 4, log
    failed = [o for o in outcomes if o.error is not None]
    # Only requests in flight on a killed worker may fail: each was under way at a kill.
    assert all(any(o.start <= kill <= o.end for kill in kills) for o in failed), failed
    assert len(failed) <= clients * len(kills)
    after = [o for o in outcomes if o.start > replaced]
    assert len(after) >= 50 and all(o.error is None for o in after)


# ---------- slow clients ----------


class SlowClient(threading.Thread):
    """Sends `head` at once, then `drip` a byte every `pause` seconds, and waits for the server.

    Records how long the server took to answer or close the connection, and what it sent.
    """

    def __init__(self, port: int, head: bytes, drip: bytes, pause: float, limit: float) -> None:
        super().__init__(daemon=True)
        self.port, self.head, self.drip, self.pause, self.limit = port, head, drip, pause, limit
        self.closed_after: float | None = None
        self.reply = b""

    def run(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=self.limit) as sock:
            started = time.monotonic()
            try:
                sock.sendall(self.head)
                for byte in self.drip:
                    if select.select([sock], [], [], self.pause)[0]:
                        break  # the server answered or closed
                    sock.sendall(bytes([byte]))
                left = self.limit - (time.monotonic() - started)
                if not select.select([sock], [], [], max(0.0, left))[0]:
                    return  # still open at the limit
                self.reply = b"".join(iter(lambda: sock.recv(65536), b""))
            except OSError:
                pass  # reset by the server: closed all the same
            self.closed_after = time.monotonic() - started


def test_slow_clients_are_cut_off_and_others_still_answered(engine, tmp_path):
    timeout = 2  # QA_TIMEOUT, seconds
    # The master checks its workers about once a second, and a replacement takes a moment.
    slack = 2.5
    with serving.Gunicorn(
        server_env(engine, QA_TIMEOUT=str(timeout)), tmp_path / "gunicorn.log"
    ) as server:
        server.wait_ready()
        # One slow client per worker: one sends its headers a byte at a time, the other
        # declares a body it never finishes.
        dribbler = SlowClient(
            server.port,
            b"GET /healthz HTTP/1.1\r\n",
            b"Host: 127.0.0.1\r\nX-Slow: " + b"z" * 200 + b"\r\n\r\n",
            pause=0.1,
            limit=timeout + slack + 5,
        )
        body = b'{"question": "Who recaptured the prison?"}'
        staller = SlowClient(
            server.port,
            b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body[:10]),
            b"",
            pause=0.1,
            limit=timeout + slack + 5,
        )
        for client in (dribbler, staller):
            client.start()
        time.sleep(0.5)  # both are accepted by now, one per worker

        started = time.monotonic()
        status, _, answer = fetch(
            f"{server.base_url}/api/ask?q=Who+recaptured+the+prison%3F", timeout=timeout + 10
        )
        waited = time.monotonic() - started
        for client in (dribbler, staller):
            client.join(timeout + slack + 10)
        log = server.log.read_text()

    assert status == 200 and answer["citations"]
    # Both workers were held (so the answer had to wait), but no longer than the timeout.
    assert timeout - 1 <= waited <= timeout + slack, waited
    for client in (dribbler, staller):
        assert client.closed_after is not None and client.closed_after <= timeout + slack + 0.5
        if client.reply:
            assert_json_error(serving.parse_reply(client.reply), 500, "internal_error")
    assert log.count("WORKER TIMEOUT") == 2, log


def assert_json_error(reply: tuple[int, dict[str, str], bytes], status: int, code: str) -> None:
    """A parsed raw reply is an error in the one JSON shape, with the security headers."""
    got, headers, body = reply
    assert got == status, body[:300]
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message"} and error["code"] == code


# ---------- what gunicorn refuses itself ----------


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /api/ask?q=" + b"a" * 8200 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
        (
            b"GET /healthz HTTP/1.1\r\n"
            + b"".join(b"X-%d: y\r\n" % i for i in range(60))
            + b"\r\n",
            431,
            "header_fields_too_large",
        ),
        (
            b"GET /healthz HTTP/1.1\r\nX-Big: " + b"y" * 9000 + b"\r\n\r\n",
            431,
            "header_fields_too_large",
        ),
        (b"GET /api/documents/a\x00b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
        (b"GET /api/documents/\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"),
        (b"NOT HTTP AT ALL\r\n\r\n", 400, "bad_request"),
    ],
    ids=["long-request-line", "many-headers", "long-header", "nul", "raw-utf8", "garbage"],
)
def test_what_gunicorn_refuses_gets_the_json_error_shape(served, request_bytes, status, code):
    assert_json_error(serving.raw_exchange(served.port, request_bytes), status, code)


def test_a_long_question_fits_a_get(served):
    # 1,000 characters at two UTF-8 bytes each: 6,000 bytes percent-encoded, under the limit.
    status, _, body = fetch(f"{served.base_url}/api/ask?q=" + "%C3%A9" * 1000)
    assert status == 200 and "answer" in body


def test_an_upload_through_gunicorn_is_answered_by_every_worker(corpus, tmp_path):
    """The worker that takes the upload answers from the new index at once; the other picks it up
    within QA_RELOAD seconds, and a restart finds the same documents."""
    env = {
        "QA_CORPUS": str(corpus),
        "QA_INDEX": str(tmp_path / "index"),
        "QA_RATE_LIMIT": "off",
        "QA_API_KEY": "gunicorn-key",
        "QA_RELOAD": "0.2",
    }
    text = b"= Lighthouse =\n\nThe Wend lighthouse was lit in 1873 by the harbour board.\n"
    body = (
        b'--B0\r\nContent-Disposition: form-data; name="file"; filename="lighthouse.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + text + b"\r\n--B0--\r\n"
    )
    with serving.Gunicorn(env, tmp_path / "gunicorn.log") as server:
        server.wait_ready()
        request = urllib.request.Request(
            f"{server.base_url}/api/documents",
            data=body,
            headers={
                "Content-Type": "multipart/form-data; boundary=B0",
                "Authorization": "Bearer gunicorn-key",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
            [added] = json.loads(response.read())["files"]
        doc_id = added["document"]["id"]
        question = {"question": "When was the lighthouse lit?", "documents": [doc_id]}
        time.sleep(1.0)  # five reload intervals
        for _ in range(20):  # on new connections, spread over both workers
            status, _, answer = fetch(f"{server.base_url}/api/ask", question)
            assert status == 200, answer
            assert answer["citations"][0]["document"]["id"] == doc_id
    with serving.Gunicorn(env, tmp_path / "gunicorn-2.log") as server:
        assert server.wait_ready()["documents"] == 3
        status, _, answer = fetch(f"{server.base_url}/api/ask", question)
        assert status == 200 and answer["citations"][0]["document"]["id"] == doc_id
