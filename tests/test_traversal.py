"""Path traversal and odd ids: a JSON 404, and nothing outside the corpus or web folder is read.

A canary file sits beside the corpus and web folders. Each path is tried through Flask's test
client and, because clients normalise paths (`..` segments, percent escapes) before sending them,
also as raw bytes on a socket to real gunicorn. Neither may ever answer with the canary.
"""

from __future__ import annotations

import json
import shutil

import pytest

from qa.answer.engine import Engine
from qa.service.app import create_app
from qa.tools import serving

CANARY = "CANARY 8c6f1e: this file is outside every served folder"
DOCUMENT = "= The document =\n\nThe only document of this corpus, about a canary.\n"

DOCUMENT_PATHS = [
    "/api/documents/..",
    "/api/documents/.",
    "/api/documents/../canary.txt",
    "/api/documents/../../canary.txt",
    "/api/documents/..%2fcanary.txt",
    "/api/documents/..%2F..%2Fcanary.txt",
    "/api/documents/%2e%2e/canary.txt",
    "/api/documents/%2e%2e%2fcanary.txt",
    "/api/documents/..%5ccanary.txt",
    "/api/documents/..%2F..%2Fetc%2Fpasswd",
    "/api/documents/%2Fetc%2Fpasswd",
    "/api/documents/%252e%252e%252fcanary.txt",
    "/api/documents/canary",
    "/api/documents/canary.txt",
    "/api/documents/doc.txt",
    "/api/documents/doc%00",
    "/api/documents/%00",
    "/api/documents/doc%00.txt",
    "/api/documents/%C3%A9t%C3%A9",
    "/api/documents/%F0%9F%90%A6",
    "/api/documents/%ff%fe",
    "/api/documents/%20",
    "/api/documents/~root",
    "/api/documents/" + "a" * 4000,
    "/api/documents/" + "..%2f" * 500 + "canary.txt",
]
# The original file of a document: by id alone, so the same tricks, a /file after them.
FILE_PATHS = [path + "/file" for path in DOCUMENT_PATHS if "%00" not in path] + [
    "/api/documents/doc/../../canary.txt",
    "/api/documents/doc/file/..",
    "/api/documents/doc/file%2f..%2f..%2fcanary.txt",
]
# pdf.js's files: only those the page needs, from its package folder.
VENDOR_PATHS = [
    "/assets/vendor/pdfjs/../../canary.txt",
    "/assets/vendor/pdfjs/..%2f..%2fcanary.txt",
    "/assets/vendor/pdfjs/build/../../../canary.txt",
    "/assets/vendor/pdfjs/build/..%2f..%2f..%2fcanary.txt",
    "/assets/vendor/pdfjs/%2e%2e/%2e%2e/canary.txt",
    "/assets/vendor/pdfjs/package.json",
    "/assets/vendor/pdfjs/build/pdf.mjs%00",
    "/assets/vendor/pdfjs//etc/passwd",
]
ASSET_PATHS = [
    "/assets/..",
    "/assets/.",
    "/assets/../canary.txt",
    "/assets/../../canary.txt",
    "/assets/icons/../../canary.txt",
    "/assets/..%2fcanary.txt",
    "/assets/..%2Fcanary.txt",
    "/assets/%2e%2e/canary.txt",
    "/assets/%2e%2e%2fcanary.txt",
    "/assets/..%5ccanary.txt",
    "/assets/%5c..%5ccanary.txt",
    "/assets/....//canary.txt",
    "/assets/%252e%252e/canary.txt",
    "/assets//etc/passwd",
    "/assets/%2fetc%2fpasswd",
    "/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/assets/app.js%00",
    "/assets/app.js%00.txt",
    "/assets/%00",
    "/assets/%C3%A9.js",
    "/assets/%ff",
    "/assets/~/canary.txt",
    "/assets/" + "a" * 4000,
    "/assets/" + "..%2f" * 500 + "canary.txt",
]
# Requests no client library would send: gunicorn refuses some itself (400), in the same shape.
RAW_ONLY = [
    b"GET ../canary.txt HTTP/1.1",
    b"GET /assets/..\\canary.txt HTTP/1.1",
    b"GET http://127.0.0.1/assets/../canary.txt HTTP/1.1",
    b"GET /assets/../canary.txt HTTP/1.0",
    b"GET /api/documents/../canary.txt HTTP/1.0",
    b"GET /%2e%2e/canary.txt HTTP/1.1",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """corpus/, web/ and an index side by side, with the canary beside them and above."""
    root = tmp_path_factory.mktemp("site")
    (root / "corpus").mkdir()
    (root / "corpus" / "doc.txt").write_text(DOCUMENT, "utf-8")
    (root / "web" / "icons").mkdir(parents=True)
    (root / "web" / "index.html").write_text("<!doctype html><title>qa</title>", "utf-8")
    (root / "web" / "app.js").write_text("export const answer = 42;\n", "utf-8")
    for folder in (root, root.parent):
        (folder / "canary.txt").write_text(CANARY, "utf-8")
        (folder / "canary").write_text(CANARY, "utf-8")
    yield root
    for folder in (root, root.parent):
        for name in ("canary.txt", "canary"):
            (folder / name).unlink(missing_ok=True)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def site_client(site):
    engine = Engine.open(site / "corpus", site / "index")
    app = create_app(
        {"TESTING": True, "ENGINE": engine, "WEB_DIR": str(site / "web"), "RATE_LIMIT": None}
    )
    return app.test_client()


@pytest.fixture(scope="module")
def site_server(site, site_client):
    """Real gunicorn on the same folders (the index is already built by site_client)."""
    env = {
        "QA_CORPUS": str(site / "corpus"),
        "QA_INDEX": str(site / "index"),
        "QA_WEB": str(site / "web"),
        "QA_RATE_LIMIT": "off",
    }
    with serving.Gunicorn(env, site / "gunicorn.log") as server:
        server.wait_ready()
        yield server


def assert_error_shape(status: int, content_type: str, body: bytes, statuses=(404,)) -> None:
    assert status in statuses, body[:300]
    assert content_type == "application/json"
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message"} and error["code"] in ("not_found", "bad_request")
    assert CANARY.encode() not in body and b"root:" not in body


def test_the_served_folders_are_served(site_client, site_server):
    # The controls: what is inside is served, so what is refused is refused for its path.
    assert site_client.get("/api/documents/doc").status_code == 200
    assert site_client.get("/api/documents/doc/file").data == DOCUMENT.encode()
    assert site_client.get("/assets/app.js").status_code == 200
    status, _, body = serving.raw_exchange(site_server.port, b"GET /assets/app.js HTTP/1.1\r\n\r\n")
    assert status == 200 and b"answer = 42" in body


@pytest.mark.parametrize("path", DOCUMENT_PATHS + FILE_PATHS + VENDOR_PATHS + ASSET_PATHS)
def test_through_flask(site_client, path):
    response = site_client.get(path)
    assert_error_shape(response.status_code, response.mimetype, response.data)


@pytest.mark.parametrize("path", DOCUMENT_PATHS + FILE_PATHS + VENDOR_PATHS + ASSET_PATHS)
def test_through_gunicorn_as_raw_bytes(site_server, path):
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    status, headers, body = serving.raw_exchange(site_server.port, request)
    assert_error_shape(status, headers["content-type"], body)


@pytest.mark.parametrize("line", RAW_ONLY)
def test_requests_no_client_sends(site_server, line):
    status, headers, body = serving.raw_exchange(site_server.port, line + b"\r\nHost: x\r\n\r\n")
    assert_error_shape(status, headers["content-type"], body, statuses=(400, 404))
