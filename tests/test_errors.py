"""Every error has the one JSON shape and the right status, and names the field at fault."""

from __future__ import annotations

import io
import logging

import pytest


def assert_error(response, status: int, code: str, *words: str) -> str:
    """Checks the status and the exact error shape; returns the message."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    assert isinstance(message, str) and message
    for word in words:
        assert word in message
    return message


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b'{"question": "a"', b"\xff\xfe\xfa", b"[" * 5000 + b"]" * 5000],
    ids=["malformed", "empty", "truncated", "bad-utf8", "deeply-nested"],
)
def test_a_body_that_is_not_json_is_400(client, body):
    response = client.post("/api/ask", data=body, content_type="application/json")
    assert_error(response, 400, "bad_request", "body", "JSON")


@pytest.mark.parametrize("body", [b"[]", b'"question"', b"3", b"null"])
def test_a_body_that_is_not_an_object_is_400(client, body):
    response = client.post("/api/ask", data=body, content_type="application/json")
    assert_error(response, 400, "bad_request", "body", "object")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "question"),
        ({"question": None}, "question"),
        ({"question": ""}, "question"),
        ({"question": "   \t\n "}, "question"),
        ({"question": "\x00\x01\x7f"}, "question"),
        ({"question": 42}, "question"),
        ({"question": ["a"]}, "question"),
        ({"question": "a" * 1001}, "question"),
        ({"question": "a", "history": "earlier"}, "history"),
        ({"question": "a", "history": None}, "history"),
        ({"question": "a", "k": None}, "k"),
        ({"question": "a", "documents": None}, "documents"),
        ({"question": "a", "history": ["x"] * 11}, "history"),
        ({"question": "a", "history": ["ok", 3]}, "history[1]"),
        ({"question": "a", "history": ["b" * 1001]}, "history[0]"),
        ({"question": "a", "k": 0}, "k"),
        ({"question": "a", "k": 21}, "k"),
        ({"question": "a", "k": -3}, "k"),
        ({"question": "a", "k": "5"}, "k"),
        ({"question": "a", "k": 2.5}, "k"),
        ({"question": "a", "k": True}, "k"),
        ({"question": "a", "documents": "al-hasakah-city-offensive"}, "documents"),
        ({"question": "a", "documents": []}, "documents"),
        ({"question": "a", "documents": [7]}, "documents[0]"),
        ({"question": "a", "documents": ["al-hasakah-city-offensive", "nope"]}, "documents[1]"),
        ({"question": "a", "questions": "typo"}, "questions"),
    ],
)
def test_invalid_fields_are_400_naming_the_field(client, body, field):
    message = assert_error(client.post("/api/ask", json=body), 400, "bad_request")
    assert message.startswith(f"{field}:"), message


def test_the_limits_themselves_are_accepted(client):
    body = {"question": "a" * 999 + "?", "history": ["b" * 1000] * 10, "k": 20}
    assert client.post("/api/ask", json=body).status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": " \t"}, "q"),
        ({"q": "a" * 1001}, "q"),
        ({"q": "a", "k": "five"}, "k"),
        ({"q": "a", "k": "0"}, "k"),
        ({"q": "a", "k": "21"}, "k"),
        ({"q": "a", "k": "-1"}, "k"),
        ({"q": "a", "documents": "nope"}, "documents[0]"),
    ],
)
def test_invalid_query_parameters_are_400_naming_the_parameter(client, query, field):
    message = assert_error(client.get("/api/ask", query_string=query), 400, "bad_request")
    assert message.startswith(f"{field}:"), message


def test_unknown_document_is_404(client):
    message = assert_error(client.get("/api/documents/no-such-doc"), 404, "not_found")
    assert "no-such-doc" in message


@pytest.mark.parametrize(
    "path", ["/nope", "/api", "/api/ask/extra", "/api/documents/a/b", "/api//documents"]
)
def test_unknown_route_is_404(client, path):
    assert_error(client.get(path), 404, "not_found", path)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("delete", "/api/ask", {"GET", "POST"}),
        ("put", "/api/documents", {"GET"}),
        ("post", "/api/documents/al-hasakah-city-offensive", {"GET"}),
        ("post", "/healthz", {"GET"}),
        ("patch", "/api/suggestions", {"GET"}),
    ],
)
def test_wrong_method_is_405_with_allow(client, method, path, allowed):
    response = getattr(client, method)(path)
    assert_error(response, 405, "method_not_allowed", method.upper(), path)
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_body_over_64_kb_is_413(client):
    body = b'{"question": "' + b"a" * (64 * 1024) + b'"}'
    response = client.post("/api/ask", data=body, content_type="application/json")
    assert_error(response, 413, "payload_too_large", "body", str(64 * 1024))


@pytest.mark.parametrize(("size", "status"), [(64 * 1024 + 1, 413), (100_000, 413), (200, 200)])
def test_a_chunked_body_is_held_to_the_same_limit(client, size, status):
    # No Content-Length: the server ends the stream (as gunicorn and werkzeug do for chunked).
    body = b'{"question": "Al-Hasakah' + b" " * (size - 26) + b'"}'
    assert len(body) == size
    response = client.post(
        "/api/ask",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == status, response.get_data(as_text=True)


def test_a_body_just_under_64_kb_is_read(client):
    # Read and parsed, then refused for the question's length: the size limit is exactly 64 KB.
    body = b'{"question": "' + b"a" * (64 * 1024 - 20) + b'"}'
    assert len(body) < 64 * 1024
    response = client.post("/api/ask", data=body, content_type="application/json")
    assert_error(response, 400, "bad_request", "question")


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_post_without_json_content_type_is_415(client, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/api/ask", data=b'{"question": "a"}', headers=headers)
    assert_error(response, 415, "unsupported_media_type", "Content-Type")


def test_json_content_type_with_charset_is_accepted(client):
    response = client.post(
        "/api/ask",
        data=b'{"question": "Al-Hasakah"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200


def test_an_unexpected_exception_is_500_without_internals(app, caplog):
    def explode():
        raise RuntimeError("secret detail from /srv/qa/internal.py")

    app.add_url_rule("/api/explode", "explode", explode)
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/api/explode", headers={"X-Request-ID": "req-500"})
    message = assert_error(response, 500, "internal_error", "req-500")
    text = response.get_data(as_text=True)
    for leak in ("secret", "Traceback", "RuntimeError", "internal.py"):
        assert leak not in text
    # The trace is in the server log, under the same request id.
    record = next(r for r in caplog.records if "req-500" in r.getMessage())
    assert record.exc_info and record.exc_info[0] is RuntimeError
    assert message == "Internal error (request id req-500)."
