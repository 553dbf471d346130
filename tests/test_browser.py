"""The chat page in a real browser: Debian's Chromium, headless, driven by Playwright.

The app runs on a loopback port in a background thread, with the session's engine; one browser
serves the whole session (tests/conftest.py) and every test gets a fresh context. The shared
helpers are in tests/browser_helpers.py. Screenshots of the main states go to tests/screenshots/.
"""

from __future__ import annotations

import re

import pytest

from qa.answer.model import as_json
from tests.browser_helpers import (
    DESKTOP,
    PHONE,
    Watch,
    ask,
    box_of,
    expect,
    last_answer,
    make_app,
    open_page,
    serve,
    shot,
    wait_for_routes,
)
from tests.helpers import MANY_DOCUMENTS, ROOT

pytestmark = pytest.mark.browser

WEB = ROOT / "web"

KWAYRES = "What happened at the Kwayres air base?"
FOLLOW_UP = "Who recaptured it according to Kurdish sources?"
NO_ANSWER = "What is the boiling point of water?"
XSS = "<img src=x onerror=alert(1)>"
# How many documents the page lists at most.
LISTED = int(re.search(r"LISTED_DOCUMENTS = (\d+);", (WEB / "app.js").read_text()).group(1))


class FailingEngine:
    """The real engine, except that answering raises: the app must answer 500."""

    def __init__(self, engine) -> None:
        self._engine = engine

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def ask(self, *args, **kwargs):
        raise RuntimeError("the index is broken")


# ---------- tests ----------


def test_page_is_small_and_paints_without_the_api(browser, base_url):
    weight = sum(p.stat().st_size for p in WEB.iterdir() if p.is_file())
    assert weight < 94 * 1024, f"web/ weighs {weight} bytes"
    # Nothing in the static page is inline script or style: the CSP would block it.
    html = (WEB / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert " style=" not in html and "<style" not in html

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watch = Watch(page)
    held = []
    page.route("**/api/**", lambda route: held.append(route))  # the API does not answer yet
    page.goto(base_url)
    # The page is usable from its own static files alone.
    expect(page.get_by_role("heading", name="What would you like to know?")).to_be_visible()
    expect(page.get_by_label("Your question")).to_be_editable()
    expect(page.locator("#doc-status")).to_have_text("Loading documents…")
    wait_for_routes(page, held, 2)  # documents and suggestions
    for route in held:
        route.continue_()
    page.unroute("**/api/**")
    expect(page.locator("#doc-status")).to_have_text(re.compile(r"\d+ documents? loaded"))
    assert all(url.startswith(base_url) for url in watch.requests), watch.requests
    assert watch.errors == []
    context.close()


def test_empty_chat_shows_corpus_suggestions_and_documents(session, engine):
    page, _ = session
    suggestions = page.locator("#suggestions button")
    expect(suggestions).to_have_count(len(engine.suggestions()))
    expect(suggestions.first).to_have_text(engine.suggestions()[0])
    titles = [doc["title"] for doc in as_json(engine.documents())]
    for title in titles:
        expect(page.locator("#library")).to_contain_text(title)
        expect(page.get_by_label("Search in").locator("option", has_text=title)).to_have_count(1)
    expect(page.locator("#doc-status")).to_have_text(f"{len(titles)} documents loaded")
    expect(page.get_by_role("button", name="New chat")).to_be_disabled()
    shot(page, "01-empty-desktop")

    suggestions.first.click()
    expect(page.locator(".msg-user .msg-text").first).to_have_text(engine.suggestions()[0])
    expect(last_answer(page)).to_be_visible()
    expect(page.locator("#welcome")).to_be_hidden()


def test_a_large_corpus_lists_its_first_documents_and_searches_all(browser, many_documents):
    with serve(make_app(many_documents)) as (url, _server):
        context, page, watch = open_page(browser, url)
        expect(page.locator("#doc-status")).to_have_text(f"{MANY_DOCUMENTS} documents loaded")
        library = page.locator("#library li")
        expect(library).to_have_count(LISTED + 1)
        expect(library.last).to_have_text(f"and {MANY_DOCUMENTS - LISTED} more")
        expect(page.get_by_label("Search in").locator("option")).to_have_count(LISTED + 1)
        # A document beyond the list is still searched.
        ask(page, "How long did the siege of Kobanî last?")
        expect(last_answer(page)).to_contain_text("The siege lasted months.")
        assert watch.errors == []
        context.close()


def test_ask_shows_pending_then_cited_answer(session, engine):
    page, _ = session
    held = []
    page.route(
        "**/api/ask", lambda route: held.append(route)
    )  # hold the request to see the pending state
    box = page.get_by_label("Your question")
    box.fill(KWAYRES)
    box.press("Enter")
    expect(page.locator(".msg-answer.pending")).to_be_visible()
    expect(page.locator(".msg-answer.pending")).to_contain_text("Searching the documents")
    expect(page.locator("#send")).to_have_attribute("aria-disabled", "true")
    expect(box).to_have_value("")
    shot(page, "02-pending-desktop")
    wait_for_routes(page, held, 1)
    held[0].continue_()

    answer = last_answer(page)
    expected = as_json(engine.ask(KWAYRES))
    first = expected["citations"][0]
    expect(answer.locator(".answer-text")).to_contain_text(first["text"])
    marker = answer.locator("a.marker").first
    expect(marker).to_have_text("1")
    card_id = marker.get_attribute("href").lstrip("#")
    card = page.locator(f"[id='{card_id}']")
    expect(card).to_contain_text(first["document"]["title"])
    expect(card.locator(".cited")).to_have_text(first["text"])
    expect(card.locator(".context").first).to_have_text(re.compile(r"\S"))
    marked = [m.lower() for m in card.locator("mark.term").all_inner_texts()]
    assert {"kwayres", "air", "base"} <= set(marked), marked
    expect(page.locator("#send")).to_have_attribute("aria-disabled", "false")
    expect(page.locator("#announcer")).to_contain_text("Answer:")
    shot(page, "03-answer-desktop")


def test_citation_opens_viewer_beside_chat_and_escape_closes(session, engine):
    page, _ = session
    ask(page, KWAYRES)
    first = as_json(engine.ask(KWAYRES))["citations"][0]
    marker = last_answer(page).locator("a.marker").first
    marker.click()

    viewer = page.get_by_role("complementary", name=first["document"]["title"])
    expect(viewer).to_be_visible()
    cited = viewer.locator(".passage.is-cited")
    expect(cited).to_have_count(1)
    expect(cited).to_contain_text(first["text"])
    expect(cited).to_have_attribute("data-passage", first["passage_id"])
    expect(cited).to_be_in_viewport()
    expect(cited.locator("mark.term").first).to_be_visible()
    shot(page, "04-viewer-desktop")

    chat = box_of(page.locator("#chat"))
    side = box_of(viewer)
    assert side["x"] >= chat["x"] + chat["width"] - 1, (chat, side)
    assert 360 <= side["width"] <= 700 and chat["width"] >= 500
    assert side["height"] >= DESKTOP["height"] - 80

    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(marker).to_be_focused()

    # The card opens the viewer too, on a sentence with sections as headings around it.
    doc = as_json(engine.document("al-hasakah-city-offensive"))
    ask(page, "Who arrived from Qamishli to reinforce the Syrian government troops?")
    card = last_answer(page).locator(".source").first
    card.locator(".source-quote").click()
    expect(page.locator("#viewer")).to_be_visible()
    headings = page.locator("#viewer .doc-section")
    expect(headings).to_have_text([s for s in doc["sections"]])
    page.get_by_role("button", name="Close the source viewer").click()
    expect(page.locator("#viewer")).to_be_hidden()


def test_follow_up_sends_history_and_gets_cited_answer(session):
    page, _ = session
    first = ask(page, KWAYRES)
    assert first.post_data_json["history"] == []
    second = ask(page, FOLLOW_UP)
    assert second.post_data_json["history"] == [KWAYRES]
    assert second.post_data_json["question"] == FOLLOW_UP
    answer = last_answer(page)
    expect(answer.locator("a.marker").first).to_be_visible()
    expect(answer.locator(".sources .source").first).to_contain_text("Kurdish sources")
    expect(answer.locator(".sources .source").first).to_contain_text("recaptured")
    expect(answer.locator(".answer-note")).to_contain_text("follow-up")
    # Only the conversation scrolls, never the page under the header and composer.
    assert page.evaluate("[scrollY, document.documentElement.scrollHeight]") == [0, 800]
    shot(page, "05-follow-up-desktop")


def test_no_answer_is_plain_and_has_no_citations(session):
    page, _ = session
    ask(page, NO_ANSWER)
    answer = last_answer(page)
    expect(answer).to_contain_text("Not found in the documents")
    expect(answer).to_contain_text("do not contain")
    expect(answer.locator("a.marker")).to_have_count(0)
    expect(answer.locator(".source")).to_have_count(0)
    expect(page.locator("#announcer")).to_contain_text("Not found")
    shot(page, "06-no-answer-desktop")


def test_server_down_keeps_the_question(browser, engine):
    with serve(make_app(engine)) as (url, server):
        context, page, watch = open_page(browser, url)
        expect(page.locator("#suggestions button").first).to_be_visible()
    # The server is stopped and its port closed: a real connection failure.
    box = page.get_by_label("Your question")
    box.fill(KWAYRES)
    box.press("Enter")
    notice = page.get_by_role("alert")
    expect(notice).to_contain_text("Could not reach the server")
    expect(notice).to_contain_text("still in the box")
    expect(box).to_have_value(KWAYRES)
    expect(page.locator(".turn")).to_have_count(0)
    shot(page, "07-server-down-desktop")
    assert watch.errors == []
    context.close()


def test_rate_limited_429_keeps_the_question(browser, engine):
    # The page's own two loads (documents, suggestions) use the allowance; the question gets 429.
    with serve(make_app(engine, RATE_LIMIT="2/hour")) as (url, _server):
        context, page, _ = open_page(browser, url)
        expect(page.locator("#suggestions button").first).to_be_visible()
        expect(page.locator("#doc-status")).to_contain_text("documents loaded")
        box = page.get_by_label("Your question")
        box.fill(KWAYRES)
        box.press("Enter")
        notice = page.get_by_role("alert")
        expect(notice).to_contain_text("Too many questions")
        expect(notice).to_contain_text(re.compile(r"ask again in (about )?\d+ (seconds|minutes)"))
        expect(box).to_have_value(KWAYRES)
        shot(page, "08-rate-limited-desktop")
        page.get_by_role("button", name="Dismiss message").click()
        expect(notice).to_be_hidden()
        expect(box).to_be_focused()
        context.close()


def test_server_error_500_keeps_the_question(browser, engine):
    with serve(make_app(FailingEngine(engine))) as (url, _server):
        context, page, _ = open_page(browser, url)
        box = page.get_by_label("Your question")
        box.fill(KWAYRES)
        with page.expect_response("**/api/ask") as response:
            box.press("Enter")
        assert response.value.status == 500
        expect(page.get_by_role("alert")).to_contain_text("Something went wrong on the server")
        expect(box).to_have_value(KWAYRES)
        expect(page.locator(".turn")).to_have_count(0)
        context.close()


def test_highlighting_matches_the_engines_terms(session):
    """Every corpus word is marked by its own stem, and only plausible relatives are."""
    from qa.text.analyze import Analyzer

    page, _ = session
    analyzer = Analyzer()
    words = set()
    for path in (ROOT / "corpus").glob("*.txt"):
        words.update(re.findall(r"\d{1,3}(?:,\d{3})+|[^\W_]+(?:['’][^\W_]+)*", path.read_text()))
    pairs = [(w, terms[0]) for w in sorted(words) if len(terms := analyzer.terms(w)) == 1]
    assert len(pairs) > 300
    result = page.evaluate(
        """async ([pairs, negatives]) => {
            const { wordMatches, prepareTerms } = await import("/assets/highlight.js");
            return {
                missed: pairs.filter(([w, t]) => !wordMatches(w, prepareTerms([t]))),
                wrong: negatives.filter(([w, t]) => wordMatches(w, prepareTerms([t]))),
            };
        }""",
        [pairs, [["airport", "air"], ["seizing", "see"], ["Qing", "q"], ["goal", "go"]]],
    )
    assert result == {"missed": [], "wrong": []}


def test_markup_in_a_question_is_shown_as_text(session):
    page, watch = session
    ask(page, XSS)
    expect(page.locator(".msg-user .msg-text")).to_have_text(XSS)
    assert page.locator("#turns img").count() == 0
    page.reload()
    expect(page.locator(".msg-user .msg-text")).to_have_text(XSS)
    page.wait_for_timeout(200)  # an onerror handler would have fired by now
    assert watch.dialogs == []


def test_reload_keeps_the_conversation_and_new_chat_clears_it(session):
    page, _ = session
    ask(page, KWAYRES)
    ask(page, FOLLOW_UP)
    page.reload()
    expect(page.locator(".turn")).to_have_count(2)
    expect(page.locator(".msg-user .msg-text").nth(1)).to_have_text(FOLLOW_UP)
    expect(last_answer(page).locator("a.marker").first).to_be_visible()
    expect(page.locator("#welcome")).to_be_hidden()
    # The restored conversation is still the history of the next question.
    request = ask(page, "Who led the offensive?")
    assert request.post_data_json["history"] == [KWAYRES, FOLLOW_UP]

    page.get_by_role("button", name="New chat").click()
    expect(page.locator(".turn")).to_have_count(0)
    expect(page.locator("#welcome")).to_be_visible()
    page.reload()
    expect(page.locator(".turn")).to_have_count(0)


def test_copy_answer_with_sources(browser, base_url, engine):
    context, page, watch = open_page(
        browser, base_url, permissions=["clipboard-read", "clipboard-write"]
    )
    ask(page, KWAYRES)
    page.get_by_role("button", name="Copy answer").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    text = page.evaluate("navigator.clipboard.readText()")
    first = as_json(engine.ask(KWAYRES))["citations"][0]
    assert text.startswith(f"Q: {KWAYRES}\n")
    assert "Sources:" in text
    assert f'[1] {first["document"]["title"]}: "{first["text"]}"' in text
    assert watch.errors == []
    context.close()


def test_restrict_to_one_document(session, engine):
    page, _ = session
    doc = "al-hasakah-city-offensive"
    page.get_by_label("Search in").select_option(doc)
    request = ask(page, "Who recaptured the prison?")
    assert request.post_data_json["documents"] == [doc]
    title = as_json(engine.document(doc))["title"]
    expect(page.locator(".msg-scope")).to_contain_text(title)
    titles = last_answer(page).locator(".source-title").all_text_contents()
    assert titles and set(titles) == {title}
    page.reload()
    expect(page.get_by_label("Search in")).to_have_value(doc)


def test_keyboard_enter_shift_enter_and_focus(session):
    page, watch = session
    # Tab from the top reaches the skip link first; it leads to the question box.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the question box")
    expect(skip).to_be_focused()
    assert skip.evaluate("e => getComputedStyle(e).outlineStyle") != "none"
    page.keyboard.press("Enter")
    box = page.get_by_label("Your question")
    expect(box).to_be_focused()

    page.keyboard.type("What happened at")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("the Kwayres air base?")
    expect(box).to_have_value("What happened at\nthe Kwayres air base?")
    assert not any(url.endswith("/api/ask") for url in watch.requests)
    page.keyboard.press("Enter")
    expect(last_answer(page).locator("a.marker").first).to_be_visible()
    expect(page.locator(".msg-user .msg-text")).to_have_text(
        "What happened at\nthe Kwayres air base?"
    )
    expect(box).to_have_value("")
    expect(box).to_be_focused()

    # Every control has a name a screen reader can say.
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll("button, a[href], select, textarea, input")]
            .filter((e) => !(e.getAttribute("aria-label") || e.labels?.[0]?.textContent
                || e.textContent).trim())
            .map((e) => e.outerHTML)"""
    )
    assert unnamed == []

    # A source card opens the viewer from the keyboard; Escape brings focus back.
    page.locator(".source-open").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#viewer")).to_be_visible()
    expect(page.locator("#viewer-title")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#viewer")).to_be_hidden()
    expect(page.locator(".source-open").first).to_be_focused()


def test_phone_layout_viewer_covers_the_screen(browser, base_url):
    context, page, watch = open_page(browser, base_url, viewport=PHONE, has_touch=True)
    shot(page, "09-empty-phone")
    ask(page, KWAYRES)
    for part in (".topbar", ".conversation", ".composer", ".msg-answer"):
        sizes = page.locator(part).first.evaluate(
            "e => [e.scrollWidth, e.clientWidth, e.getBoundingClientRect().right]"
        )
        assert sizes[0] <= sizes[1] and sizes[2] <= PHONE["width"], (part, sizes)
    shot(page, "10-answer-phone")

    last_answer(page).locator(".source").first.locator(".source-quote").click()
    viewer = page.locator("#viewer")
    expect(viewer).to_be_visible()
    expect(viewer.locator(".passage.is-cited")).to_be_in_viewport()
    box = box_of(viewer)
    assert box["x"] == 0 and box["y"] == 0
    assert box["width"] == PHONE["width"] and box["height"] == PHONE["height"]
    assert page.evaluate("[chat.inert, document.querySelector('.topbar').inert]") == [True, True]
    shot(page, "11-viewer-phone")
    page.get_by_role("button", name="Close the source viewer").click()
    expect(viewer).to_be_hidden()
    assert page.evaluate("[chat.inert, document.querySelector('.topbar').inert]") == [False, False]
    assert watch.errors == []
    context.close()


def test_dark_theme_follows_the_system(browser, base_url):
    context, page, watch = open_page(browser, base_url, color_scheme="dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    channels = [int(c) for c in re.findall(r"\d+", background)[:3]]
    assert max(channels) < 60, background
    ask(page, KWAYRES)
    last_answer(page).locator("a.marker").first.click()
    expect(page.locator(".passage.is-cited")).to_be_in_viewport()
    shot(page, "12-viewer-dark-desktop")
    assert watch.errors == []
    context.close()


def test_dark_phone_answer(browser, base_url):
    context, page, watch = open_page(browser, base_url, viewport=PHONE, color_scheme="dark")
    ask(page, KWAYRES)
    ask(page, NO_ANSWER)
    shot(page, "13-dark-phone")
    assert watch.errors == []
    context.close()
