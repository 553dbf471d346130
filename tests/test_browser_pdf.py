"""A PDF citation in a real browser: the source viewer draws the cited page with pdf.js (served
from our origin out of node_modules, which ./scripts/test installs) and highlights the sentence."""

from __future__ import annotations

import shutil

import pytest
from fpdf import FPDF

from qa.answer.engine import Engine
from qa.settings import DEFAULT_PDFJS
from tests import documents
from tests.browser_helpers import (
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

pytestmark = pytest.mark.browser

FILLER = (
    "The coast road runs north from the harbour past the dunes and the salt marsh, where "
    "wading birds feed at low tide and the old sea wall shelters a row of fishermen's cottages."
)
# Long enough to run over two lines, on the second page.
CITED = (
    "The lighthouse on Farne Point was first lit on 4 March 1826 by its keeper, Thomas Vell, "
    "who tended the lamp for thirty-one years."
)
QUESTION = "When was the lighthouse on Farne Point first lit?"


def lighthouse_pdf() -> bytes:
    """Three pages of prose under headings, the cited sentence in the middle of page 2."""
    pdf = FPDF()
    pdf.set_title("The Farne coast")
    for number, heading in enumerate(["The coast road", "The lighthouse", "The harbour"], 1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=18)
        pdf.cell(0, 12, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        for paragraph in range(3):
            text = CITED if (number, paragraph) == (2, 1) else FILLER
            pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
    return bytes(pdf.output())


@pytest.fixture(scope="module")
def pdf_engine(tmp_path_factory) -> Engine:
    folder = tmp_path_factory.mktemp("pdf-corpus")
    shutil.copytree(DEFAULT_CORPUS, folder, dirs_exist_ok=True)
    (folder / "farne.pdf").write_bytes(lighthouse_pdf())
    (folder / "wend.pdf").write_bytes(documents.pdf_bytes())  # a sentence across a page break
    return Engine.open(folder, tmp_path_factory.mktemp("pdf-index"))


def test_a_pdf_citation_opens_its_page_with_the_sentence_highlighted(browser, pdf_engine):
    if not (DEFAULT_PDFJS / "build" / "pdf.min.mjs").is_file():
        pytest.fail(f"pdf.js is not installed in {DEFAULT_PDFJS}: run npm ci (./scripts/test does)")
    with serve(make_app(pdf_engine)) as (url, _server):
        context, page, watch = open_page(browser, url)
        viewer = open_pdf_citation(page, QUESTION, "4 March 1826", "Page 2 of 3", 2)
        canvas = viewer.locator("canvas.pdf-canvas")
        assert box_of(canvas)["width"] > 300
        # Something was drawn: the canvas is not blank.
        assert page.evaluate(
            """() => {
                const c = document.querySelector('canvas.pdf-canvas');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                for (let i = 0; i < d.length; i += 4) if (d[i] < 128) return true;
                return false;
            }"""
        )
        marks = viewer.locator(".pdf-mark")
        expect(marks.first).to_be_visible()
        assert marks.count() >= 2  # the sentence runs over two lines
        # The marks cover the sentence's words in the text layer and nothing far from them.
        words = viewer.locator(".textLayer span", has_text="Farne Point")
        word_box, mark_box = box_of(words.first), box_of(marks.first)
        assert abs(word_box["y"] - mark_box["y"]) < 4
        assert mark_box["x"] <= word_box["x"] + 2
        highlighted = under_marks(page)
        assert "lighthouse on Farne Point" in highlighted
        assert "coast road" not in highlighted
        expect(viewer.locator(".pdf-said")).to_contain_text(CITED)
        shot(page, "pdf-citation-page-2")

        # Page navigation: next, then back to the cited page with its highlight again.
        viewer.get_by_role("button", name="Next ›").click()
        expect(viewer.locator(".pdf-at")).to_have_text("Page 3 of 3")
        expect(viewer.locator(".pdf-page[data-rendered='3']")).to_have_count(1)
        expect(viewer.get_by_role("button", name="Next ›")).to_be_disabled()
        expect(marks).to_have_count(0)
        viewer.get_by_role("button", name="‹ Previous").click()
        expect(viewer.locator(".pdf-page[data-rendered='2']")).to_have_count(1)
        expect(marks.first).to_be_visible()

        assert all(request.startswith(url) for request in watch.requests), watch.requests
        assert watch.errors == []
        context.close()


def under_marks(page) -> str:
    """The text layer's text under the highlight boxes' centres."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.pdf-mark')].map((m) => {
            const r = m.getBoundingClientRect();
            return document.elementsFromPoint(r.x + r.width / 2, r.y + r.height / 2)
              .filter((e) => e.matches('.textLayer span')).map((e) => e.textContent).join('');
        }).join(' ')"""
    )


def test_a_sentence_across_a_page_break_is_highlighted_on_both_pages(browser, pdf_engine):
    with serve(make_app(pdf_engine)) as (url, _server):
        context, page, watch = open_page(browser, url)
        ask(page, "When was the ferry across the estuary replaced by a steam launch?")
        expect(last_answer(page)).to_contain_text(documents.BEFORE_BREAK)
        last_answer(page).locator(".marker[data-cite='1']").first.click()
        viewer = page.locator("#viewer")
        expect(viewer.locator(".pdf-at")).to_have_text("Page 1 of 3", timeout=15000)
        expect(viewer.locator(".pdf-mark").first).to_be_visible(timeout=15000)
        assert "ferry across the estuary" in under_marks(page)
        viewer.get_by_role("button", name="Next ›").click()
        expect(viewer.locator(".pdf-page[data-rendered='2']")).to_have_count(1)
        expect(viewer.locator(".pdf-mark").first).to_be_visible()
        on_two = under_marks(page)
        assert "1887 by a steam launch" in on_two
        # From the line's first character: the page number "1" on page 1 is no part of "1887".
        line = viewer.locator(".textLayer span", has_text="1887 by a steam launch")
        assert abs(box_of(viewer.locator(".pdf-mark").first)["x"] - box_of(line)["x"]) < 2
        assert "Mills" not in on_two and "survey" not in on_two
        shot(page, "pdf-citation-across-pages")
        assert watch.errors == []
        context.close()
