"""Security headers on every response, whatever its status or kind."""

from __future__ import annotations

import pytest

from qa.service.app import CONTENT_SECURITY_POLICY

DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}


def assert_security_headers(response) -> None:
    headers = response.headers
    policy = dict(
        part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";")
    )
    assert policy == DIRECTIVES
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"


def test_the_policy_allows_no_inline_code():
    for word in ("unsafe-inline", "unsafe-eval", "*", "http:", "https:"):
        assert word not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("get", "/healthz", {}, 200),
        ("get", "/readyz", {}, 200),
        ("get", "/api/documents", {}, 200),
        ("get", "/api/openapi.json", {}, 200),
        ("post", "/api/ask", {"json": {"question": "Al-Hasakah"}}, 200),
        ("post", "/api/ask", {"json": {}}, 400),
        ("get", "/nope", {}, 404),
        ("delete", "/api/ask", {}, 405),
        ("post", "/api/ask", {"data": "x" * 70_000, "content_type": "application/json"}, 413),
        ("post", "/api/ask", {"data": "x"}, 415),
        ("options", "/api/ask", {}, 200),
    ],
)
def test_every_response_carries_the_headers(client, method, path, kwargs, status):
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    assert_security_headers(response)


def test_static_files_and_the_page_carry_the_headers(page_client):
    for path in ("/", "/assets/app.js", "/assets/missing.js"):
        assert_security_headers(page_client.get(path))


def test_a_500_carries_the_headers(app):
    def explode():
        raise ValueError("boom")

    app.add_url_rule("/explode", "explode", explode)
    response = app.test_client().get("/explode")
    assert response.status_code == 500
    assert_security_headers(response)


def test_a_429_carries_the_headers(engine):
    from qa.service.app import create_app

    client = create_app({"TESTING": True, "ENGINE": engine, "RATE_LIMIT": "1/minute"}).test_client()
    client.get("/api/documents")
    response = client.get("/api/documents")
    assert response.status_code == 429
    assert_security_headers(response)


def test_json_is_never_sniffed_as_html(client):
    # A question holding markup comes back inside JSON, with a JSON type and nosniff.
    response = client.post("/api/ask", json={"question": "<script>alert(1)</script>"})
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_request_ids_are_echoed_or_made(client):
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["X-Request-ID"] == "abc-123"
    made = {client.get("/nope").headers["X-Request-ID"] for _ in range(3)}
    assert len(made) == 3 and all(len(i) == 32 for i in made)


@pytest.mark.parametrize("forged", ["a b", "a" * 129, "<script>", "id;drop"])
def test_a_forged_request_id_is_replaced(client, forged):
    # Anything but a short plain token could forge or break access-log lines.
    response = client.get("/healthz", headers={"X-Request-ID": forged})
    assert response.headers["X-Request-ID"] != forged
    assert len(response.headers["X-Request-ID"]) == 32
