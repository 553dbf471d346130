"""Adding and removing documents through the page: the key in the settings, the "Add documents"
panel (a progress bar and a result per file), "Search in" by collection, and "Remove document"
in the source viewer."""

from __future__ import annotations

import shutil

import pytest

from qa.answer.engine import Engine
from qa.settings import DEFAULT_PDFJS
from tests.browser_helpers import (
    PHONE,
    ask,
    box_of,
    expect,
    last_answer,
    make_app,
    open_page,
    open_pdf_citation,
    serve,
    shot,
)
from tests.helpers import DEFAULT_CORPUS
from tests.test_browser_pdf import CITED, QUESTION, lighthouse_pdf, under_marks

pytestmark = pytest.mark.browser

KEY = "panel-test-key-0123456789"
HTML = (
    b"<!doctype html><html><head><title>The Wend ferry</title></head><body>"
    b"<h1>The Wend ferry</h1><p>The chain ferry over the Wend carried its last cart in 1923, "
    b"when the county opened the iron bridge at Carrow.</p></body></html>"
)
PDF = lighthouse_pdf()
MILL = "= Mill race =\n\nThe mill race at Harwood was dug in 1802 by the Harwood brothers.\n"


@pytest.fixture
def app(tmp_path):
    """The real app with QA_API_KEY set, on a copy of the default corpus it may write into."""
    folder = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, folder)
    (folder / "mill.txt").write_text(MILL, "utf-8")
    engine = Engine.open(folder, tmp_path / "index")
    return make_app(engine, API_KEY=KEY, RELOAD="off")


def enter_key(page) -> None:
    expect(page.get_by_role("button", name="Add documents")).to_be_hidden()
    page.get_by_role("button", name="Settings").click()
    dialog = page.get_by_role("dialog", name="Settings")
    dialog.get_by_label("Key").fill(KEY)
    dialog.get_by_label("Key").press("Enter")
    expect(dialog).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('qa.key')") == KEY


def test_uploaded_pdf_and_html_are_answered_and_the_pdf_citation_opens_its_page(browser, app):
    if not (DEFAULT_PDFJS / "build" / "pdf.min.mjs").is_file():
        pytest.fail(f"pdf.js is not installed in {DEFAULT_PDFJS}: run ./scripts/pdfjs")
    with serve(app) as (url, _server):
        context, page, watch = open_page(browser, url)
        keyed = []
        page.on("request", lambda r: keyed.append(r.method) if "authorization" in r.headers else 0)
        enter_key(page)
        page.get_by_role("button", name="Add documents").click()
        panel = page.get_by_role("dialog", name="Add documents")
        with page.expect_request(lambda r: r.method == "POST") as first:
            page.locator("#files").set_input_files(
                [
                    {"name": "farne.pdf", "mimeType": "application/pdf", "buffer": PDF},
                    {"name": "ferry.html", "mimeType": "text/html", "buffer": HTML},
                    {"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"},
                ]
            )
        assert first.value.headers["authorization"] == f"Bearer {KEY}"
        uploads = panel.locator(".upload")
        expect(uploads).to_have_count(3)
        expect(uploads.nth(0)).to_contain_text("Added as “The Farne coast”.", timeout=15000)
        expect(uploads.nth(1)).to_contain_text("Added as “The Wend ferry”.", timeout=15000)
        expect(uploads.nth(2)).to_contain_text("Not added:", timeout=15000)
        expect(uploads.nth(2)).to_contain_text(".pdf")  # the supported types, in words
        for n in (0, 1):
            expect(uploads.nth(n).locator("progress")).to_have_js_property("value", 1)
        shot(page, "upload-panel")
        panel.get_by_role("button", name="Done").click()

        # The list and "Search in" know the new documents, under their collection.
        expect(page.locator("#doc-status")).to_have_text("5 documents loaded")
        scope = page.get_by_label("Search in")
        expect(scope.locator("optgroup[label='Collection “uploads”'] option")).to_have_count(3)
        ask(page, "When did the chain ferry over the Wend carry its last cart?")
        expect(last_answer(page)).to_contain_text("1923")

        viewer = open_pdf_citation(page, QUESTION, "4 March 1826", "Page 2 of 3", 2)
        expect(viewer.locator(".pdf-mark").first).to_be_visible()
        assert "lighthouse on Farne Point" in under_marks(page)
        expect(viewer.locator(".pdf-said")).to_contain_text(CITED)
        shot(page, "upload-pdf-citation-page-2")

        # A collection scopes a question: the default corpus's answer is not in "uploads".
        scope.select_option("collection:uploads")
        sent = ask(page, "How many civilians fled Al-Hasakah?")
        assert sent.post_data_json["collections"] == ["uploads"]
        assert "documents" not in sent.post_data_json
        expect(page.locator(".msg-scope").last).to_contain_text("the collection “uploads”")
        for cited in last_answer(page).locator(".source").all():
            expect(cited).not_to_contain_text("Al-Hasakah offensive")

        assert keyed == ["POST", "POST", "POST"]  # reads never carried the key
        assert watch.errors == []
        context.close()


def test_a_document_removed_from_its_viewer_is_gone(browser, app):
    with serve(app) as (url, _server):
        context, page, watch = open_page(browser, url)
        ask(page, "When was the mill race dug?")
        expect(last_answer(page)).to_contain_text("1802")
        expect(page.get_by_role("button", name="Remove document")).to_be_hidden()
        enter_key(page)
        page.get_by_role("button", name="New chat").click()
        page.locator("#library").get_by_role("button", name="Mill race").click()
        viewer = page.locator("#viewer")
        expect(viewer.locator(".passage").first).to_contain_text("1802")
        remove = viewer.get_by_role("button", name="Remove document")

        # Cancelled: nothing happens.
        remove.click()
        confirm = page.get_by_role("dialog", name="Remove this document?")
        expect(confirm).to_contain_text("“Mill race”")
        confirm.get_by_role("button", name="Cancel").click()
        expect(confirm).to_be_hidden()
        expect(viewer).to_be_visible()

        remove.click()
        with page.expect_request(lambda r: r.method == "DELETE") as deleted:
            confirm.get_by_role("button", name="Remove").click()
        assert deleted.value.url.endswith("/api/documents/mill")
        assert deleted.value.headers["authorization"] == f"Bearer {KEY}"
        expect(viewer).to_be_hidden()
        expect(page.locator("#doc-status")).to_have_text("2 documents loaded")
        expect(page.locator("#library")).not_to_contain_text("Mill race")
        options = page.get_by_label("Search in").locator("option", has_text="Mill race")
        expect(options).to_have_count(0)
        ask(page, "When was the mill race dug?")
        expect(last_answer(page)).not_to_contain_text("1802")
        assert watch.errors == []
        context.close()


def test_a_wrong_key_is_said_in_words_and_all_is_reached_by_keyboard(browser, app):
    with serve(app) as (url, _server):
        context, page, watch = open_page(browser, url)
        settings = page.get_by_role("button", name="Settings")
        settings.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_label("Key")).to_be_focused()
        page.keyboard.type("not-the-key")
        page.keyboard.press("Enter")
        expect(settings).to_be_focused()
        add = page.get_by_role("button", name="Add documents")
        add.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_label("Drop files here, or choose files")).to_be_focused()
        page.locator("#files").set_input_files(
            [{"name": "mill2.txt", "mimeType": "text/plain", "buffer": MILL.encode()}]
        )
        expect(page.locator(".upload")).to_contain_text("Not added: The server did not accept")
        # A dropped file goes the same way.
        page.evaluate(
            """() => {
                const data = new DataTransfer();
                data.items.add(new File(["= Dropped =\\n\\nA dropped note.\\n"], "dropped.txt"));
                const drop = document.getElementById("drop");
                for (const type of ["dragover", "drop"]) {
                    const event = { dataTransfer: data, cancelable: true };
                    drop.dispatchEvent(new DragEvent(type, event));
                }
            }"""
        )
        expect(page.locator(".upload")).to_have_count(2)
        dropped = page.locator(".upload").nth(1)
        expect(dropped).to_contain_text("dropped.txt")
        expect(dropped).to_contain_text("Not added: The server did not accept")
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog", name="Add documents")).to_be_hidden()
        expect(add).to_be_focused()
        assert watch.errors == []
        context.close()


def test_a_server_that_needs_a_read_key_asks_for_it(browser, tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, folder)
    (folder / "farne.pdf").write_bytes(PDF)
    engine = Engine.open(folder, tmp_path / "index")
    with serve(make_app(engine, API_KEY=KEY, READ_KEY="reader", RELOAD="off")) as (url, _server):
        context, page, watch = open_page(browser, url)
        expect(page.locator("#notice")).to_contain_text("needs a key to read")
        dialog = page.get_by_role("dialog", name="Settings")
        expect(dialog).to_be_visible()
        dialog.get_by_label("Key").fill("reader")
        dialog.get_by_role("button", name="Save").click()
        expect(page.locator("#doc-status")).to_have_text("3 documents loaded")
        expect(page.locator("#notice")).to_be_hidden()
        ask(page, QUESTION)
        last_answer(page).locator(".marker[data-cite='1']").first.click()
        expect(page.locator("#viewer .pdf-at")).to_have_text("Page 2 of 3", timeout=15000)
        expect(page.locator("#viewer .pdf-mark").first).to_be_visible(timeout=15000)
        context.close()


def test_on_a_phone_the_top_bar_holds_add_documents_and_settings(browser, app):
    with serve(app) as (url, _server):
        context, page, watch = open_page(browser, url, viewport=PHONE)
        page.evaluate(f"sessionStorage.setItem('qa.key', '{KEY}')")
        page.reload()
        for name in ("Add documents", "Settings"):
            box = box_of(page.get_by_role("button", name=name))
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], name
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        context.close()
