"""What the browser tests share: Chromium, the app on a loopback port, a watched page, actions.

The app runs in a background thread (werkzeug's make_server); every page gets a fresh context,
so localStorage starts empty. Screenshots go to tests/screenshots/.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parent / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}

# Messages the browser logs by itself for failed requests, which some tests cause on purpose.
EXPECTED_CONSOLE = re.compile(r"Failed to load resource|net::ERR_")


# ---------- servers ----------


class OneRequestPerConnection(WSGIRequestHandler):
    """HTTP/1.0: no kept-alive connection outlives a stopped server, and none is logged."""

    protocol_version = "HTTP/1.0"

    def log_request(self, *args, **kwargs) -> None:
        pass


@contextlib.contextmanager
def serve(app) -> Iterator[tuple[str, object]]:
    """Runs `app` on a free loopback port in a background thread; yields (base URL, server)."""
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=OneRequestPerConnection
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def make_app(engine, **config):
    from qa.service.app import create_app

    # The rate limit is off for the shared server: a test session loads the page many times.
    return create_app({"TESTING": True, "ENGINE": engine, "RATE_LIMIT": "off", **config})


# ---------- browser ----------


@contextlib.contextmanager
def launch_browser() -> Iterator:
    """Debian's Chromium, headless; skips (fails in CI) when it is not installed."""
    if not CHROMIUM.exists():
        # CI installs Chromium through ./scripts/test, so there a missing browser is a failure.
        missing = "Debian's chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    with playwright_sync.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class Watch:
    """What a page did that a test may want to check: dialogs, errors, requests."""

    def __init__(self, page) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", self._console)
        page.on("request", lambda request: self.requests.append(request.url))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message) -> None:
        if message.type == "error" and not EXPECTED_CONSOLE.search(message.text):
            self.errors.append(f"console: {message.text}")


def open_page(browser, url: str, viewport=DESKTOP, **options):
    context = browser.new_context(viewport=viewport, reduced_motion="reduce", **options)
    page = context.new_page()
    page.set_default_timeout(5000)
    watch = Watch(page)
    page.goto(url)
    expect(page.locator("html")).to_have_class(re.compile(r"\bis-ready\b"))
    return context, page, watch


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


# ---------- actions ----------


def ask(page, question: str):
    """Types a question, presses Enter, waits for its answer; returns the request sent."""
    box = page.get_by_label("Your question")
    box.fill(question)
    count = page.locator(".turn .msg-answer:not(.pending)").count()
    with page.expect_request(lambda r: r.url.endswith("/api/ask")) as sent:
        box.press("Enter")
    expect(page.locator(".turn .msg-answer:not(.pending)")).to_have_count(count + 1)
    return sent.value


def last_answer(page):
    return page.locator(".turn").last.locator(".msg-answer")


def open_pdf_citation(page, question: str, said: str, at: str, number: int):
    """Asks, checks the answer says `said`, opens its first citation and waits until the viewer
    shows PDF page `number` (`at`: its "Page N of M"); returns the viewer."""
    ask(page, question)
    answer = last_answer(page)
    expect(answer).to_contain_text(said)
    answer.locator(".marker[data-cite='1']").first.click()
    viewer = page.locator("#viewer")
    expect(viewer.locator(".pdf-at")).to_have_text(at, timeout=15000)
    expect(viewer.locator(f".pdf-page[data-rendered='{number}']")).to_have_count(1, timeout=15000)
    return viewer


def wait_for_routes(page, held: list, count: int) -> None:
    """Lets Playwright run the route handlers until `count` requests are held."""
    for _ in range(250):
        if len(held) >= count:
            break
        page.wait_for_timeout(20)
    assert len(held) == count, [route.request.url for route in held]


def box_of(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None
    return box
