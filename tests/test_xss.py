"""Markup in documents and questions is shown as text in the page and never runs.

A corpus of one document whose title, section names, infobox values, list items and sentences
are made of HTML and script is served to Chromium; the page lists it, answers a question about
it, and opens it in the source viewer. No dialog may open, no payload may set its global, no
element the payloads describe may exist, and the payloads must be visible as literal text.
"""

from __future__ import annotations

import pytest

from qa.answer.engine import Engine
from tests.browser_helpers import ask, expect, last_answer, make_app, open_page, serve, shot

pytestmark = pytest.mark.browser

IMG = '<img src=x onerror="alert(1);window.pwned=1">'
SCRIPT = "<script>alert(2);window.pwned=2</script>"
SVG = '"><svg onload="alert(3);window.pwned=3">'
LINK = '<a href="javascript:alert(4);window.pwned=4">javascript:alert(4)</a>'
TITLE = f"Zorbalak raid {IMG} {SVG}"
SECTION = f"{SCRIPT} Zorbalak aftermath"
SENTENCE = f"The Zorbalak garrison leader wrote {SCRIPT} in the camp log."
HOSTILE = f"""= {TITLE} =

Infobox
- Commander: {SCRIPT} Zorbalak
- Website: javascript:alert(5)
- Result: {SVG} victory at Zorbalak

The Zorbalak raid began when {IMG} was painted on the walls.[1] {SENTENCE}

== {SECTION} ==

The Zorbalak fighters posted {LINK} and [a link](javascript:alert(6)) about the raid.

- {IMG} Zorbalak memorial
"""
# Anything the payloads would create if they were parsed as markup instead of shown as text.
INJECTED = (
    "img[src='x'], svg[onload], [onerror], [onload], a[href^='javascript:' i], "
    "script:not([src]), iframe, object, embed"
)


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "corpus").mkdir()
    (folder / "corpus" / "zorbalak.txt").write_text(HOSTILE, "utf-8")
    engine = Engine.open(folder / "corpus", folder / "index")
    with serve(make_app(engine)) as (url, _server):
        yield url


def assert_nothing_ran(page, watch) -> None:
    page.wait_for_timeout(200)  # an onerror or onload handler would have fired by now
    assert watch.dialogs == []
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.locator(INJECTED).count() == 0
    # A blocked inline handler or script would show up here as a CSP violation.
    assert watch.errors == []


def test_markup_in_the_corpus_and_questions_is_text(browser, hostile_url):
    context, page, watch = open_page(browser, hostile_url)
    # The empty chat lists the document by its title and offers questions made from it.
    expect(page.locator("#library")).to_contain_text(TITLE)
    expect(page.locator("#suggestions")).to_contain_text(TITLE)

    question = f"What did the Zorbalak garrison leader write? {SVG} {IMG}"
    ask(page, question)
    expect(page.locator(".msg-user .msg-text").last).to_have_text(question)
    answer = last_answer(page)
    expect(answer.locator(".answer-text")).to_contain_text(SCRIPT)
    expect(answer.locator(".source").first).to_contain_text(TITLE)
    assert_nothing_ran(page, watch)

    answer.locator("a.marker").first.click()
    viewer = page.locator("#viewer")
    expect(viewer).to_be_visible()
    expect(page.locator("#viewer-title")).to_have_text(TITLE)
    expect(viewer.locator(".doc-section")).to_contain_text([SECTION])
    for text in (SENTENCE, f"{SCRIPT} Zorbalak", "javascript:alert(5)", LINK, f"{IMG} Zorbalak"):
        expect(viewer).to_contain_text(text)
    expect(viewer.locator(".passage.is-cited")).to_contain_text(SCRIPT)
    shot(page, "14-markup-as-text-desktop")
    assert_nothing_ran(page, watch)

    # The stored conversation is rendered again from localStorage on reload: still text.
    page.reload()
    expect(last_answer(page).locator(".answer-text")).to_contain_text(SCRIPT)
    assert_nothing_ran(page, watch)
    context.close()
