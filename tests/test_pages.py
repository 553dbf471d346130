"""The web page at / and its files under /assets/, without ever leaving the web folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qa.service.app import create_app
from tests.helpers import ROOT


def test_the_page_is_served_at_the_root(page_client, web_dir):
    response = page_client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.data == (web_dir / "index.html").read_bytes()


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        ("app.js", "text/javascript"),
        ("style.css", "text/css"),
        ("icons/icon.svg", "image/svg+xml"),
    ],
)
def test_assets_are_served_with_their_type(page_client, web_dir, path, mimetype):
    response = page_client.get(f"/assets/{path}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.data == (web_dir / path).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/assets/missing.js",
        "/assets/icons/",
        "/assets/../secret.txt",
        "/assets/%2e%2e/secret.txt",
        "/assets/..%2fsecret.txt",
        "/assets/icons/../../secret.txt",
        "/assets//etc/passwd",
        "/assets/%2fetc%2fpasswd",
        "/assets/..\\secret.txt",
    ],
)
def test_missing_or_outside_files_are_json_404(page_client, path):
    response = page_client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert b"not for the web" not in response.data
    assert b"root:" not in response.data


def test_a_missing_page_is_a_json_404(engine, tmp_path):
    client = create_app({"TESTING": True, "ENGINE": engine, "WEB_DIR": str(tmp_path)}).test_client()
    response = client.get("/")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_the_web_folder_defaults_to_the_repository(engine, monkeypatch):
    monkeypatch.delenv("QA_WEB", raising=False)
    app = create_app({"TESTING": True, "ENGINE": engine})
    assert Path(app.config["WEB_DIR"]) == ROOT / "web"


def test_qa_web_moves_the_web_folder(engine, web_dir, monkeypatch):
    monkeypatch.setenv("QA_WEB", str(web_dir))
    client = create_app({"TESTING": True, "ENGINE": engine}).test_client()
    assert client.get("/assets/app.js").data == (web_dir / "app.js").read_bytes()


def test_the_repository_page_needs_nothing_the_policy_forbids(app):
    # Only meaningful once web/ holds the page: no inline script, handler or style may be in it.
    page = Path(app.config["WEB_DIR"]) / "index.html"
    if not page.exists():
        pytest.skip("web/index.html not written yet")
    html = app.test_client().get("/").get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", html, re.IGNORECASE)
    assert scripts and all(re.search(r"\bsrc=", tag) for tag in scripts)
    assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=|javascript:", html, re.IGNORECASE)


@pytest.fixture
def pdfjs_client(engine, web_dir, tmp_path):
    """An app serving a stand-in pdfjs-dist folder (the real one is node_modules/pdfjs-dist)."""
    package = tmp_path / "pdfjs-dist"
    for name in ["build/pdf.min.mjs", "build/pdf.worker.min.mjs", "standard_fonts/FoxitSans.pfb"]:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(f"// {name}\n", "utf-8")
    (package / "package.json").write_text("{}", "utf-8")
    (package / "build" / "pdf.mjs.map").write_text("{}", "utf-8")
    config = {"TESTING": True, "ENGINE": engine, "WEB_DIR": str(web_dir), "PDFJS_DIR": str(package)}
    return create_app(config).test_client()


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        ("build/pdf.min.mjs", "text/javascript"),
        ("build/pdf.worker.min.mjs", "text/javascript"),
        ("standard_fonts/FoxitSans.pfb", "application/octet-stream"),
    ],
)
def test_pdfjs_files_are_served_as_their_type(pdfjs_client, path, mimetype):
    response = pdfjs_client.get(f"/assets/vendor/pdfjs/{path}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


@pytest.mark.parametrize(
    "path",
    [
        "package.json",
        "build/pdf.mjs.map",
        "build/missing.mjs",
        "../secret.txt",
        "build/../package.json",
        "%2e%2e/secret.txt",
        "standard_fonts/../../secret.txt",
    ],
)
def test_only_the_pdfjs_files_the_page_needs_are_served(pdfjs_client, path):
    response = pdfjs_client.get(f"/assets/vendor/pdfjs/{path}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert b"not for the web" not in response.data
