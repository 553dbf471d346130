"""What the chat page shows of an answer beyond its quotes: the answer span, the aliases that
were searched, spelling suggestions, and "Tell me more" continuations.

Real app on a loopback port with the session's engine on the default corpus (see
tests/browser_helpers.py); every expectation is taken from the engine's own answer object.
"""

from __future__ import annotations

import re

import pytest

from qa.answer.model import as_json
from tests.browser_helpers import (
    PHONE,
    ask,
    box_of,
    expect,
    last_answer,
    open_page,
    shot,
)

pytestmark = pytest.mark.browser

CHECKPOINT = "Which checkpoint was recaptured on 6 June?"
ISIS = "What did ISIS do on 23 June?"
HASAKEH = "What happened in Hasakeh on 4 June?"
NO_ANSWER = "What is the boiling point of water?"
# "Sanjar" is about as close to "Sinjar" as to other corpus words: suggested, not applied.
SANJAR = "What was the Sanjar offensive?"


def background(locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).backgroundColor")


def test_answer_span_is_emphasised_in_answer_card_and_viewer(session, engine):
    page, _ = session
    expected = as_json(engine.ask(CHECKPOINT))
    span = expected["answer_span"]
    assert span["text"] == "Panorama checkpoint" and span["citation"] == 1
    ask(page, CHECKPOINT)
    answer = last_answer(page)

    # In the answer text, inside the quote of citation 1, which still reads as the sentence.
    emphasis = answer.locator(".answer-text mark.answer-span")
    expect(emphasis).to_have_count(1)
    expect(emphasis).to_have_text(span["text"])
    expect(answer.locator(".answer-text")).to_contain_text(expected["citations"][0]["text"])
    # In source card 1's cited sentence, around the matched word it contains.
    card = answer.locator(".sources .source").first
    expect(card.locator(".cited")).to_have_text(expected["citations"][0]["text"])
    card_emphasis = card.locator(".cited mark.answer-span")
    expect(card_emphasis).to_have_text(span["text"])
    expect(card_emphasis.locator("mark.term")).to_have_text("checkpoint")
    # It looks different from the matched-word highlight.
    term = card.locator(".cited > mark.term").first
    assert background(card_emphasis) != background(term)
    assert int(card_emphasis.evaluate("e => getComputedStyle(e).fontWeight")) >= 600
    shot(page, "14-answer-span-desktop")

    answer.locator("a.marker").first.click()
    cited = page.locator("#viewer .passage.is-cited")
    expect(cited.locator("mark.answer-span")).to_have_text(span["text"])
    expect(cited).to_be_in_viewport()
    shot(page, "15-answer-span-viewer-desktop")


def test_aliases_searched_are_noted_with_their_definition(session, engine):
    page, _ = session
    alias = as_json(engine.ask(ISIS))["query"]["aliases"][0]
    assert alias["form"] == "ISIS" and "ISIL" in alias["names"]
    ask(page, ISIS)
    answer = last_answer(page)
    note = answer.locator(".answer-note", has_text="Also searched as")
    expect(note).to_contain_text("ISIL")
    expect(note).to_contain_text("for “ISIS”")
    doc_id = alias["defined_in"].rsplit(":", 1)[0]
    title = as_json(engine.document(doc_id))["title"]
    link = note.get_by_role("button", name=title)
    expect(link).to_be_visible()
    expect(answer.locator("a.marker").first).to_be_visible()
    shot(page, "16-aliases-desktop")

    link.click()
    viewer = page.get_by_role("complementary", name=title)
    cited = viewer.locator(".passage.is-cited")
    expect(cited).to_have_attribute("data-passage", alias["defined_in"])
    expect(cited).to_be_in_viewport()
    expect(cited.locator("mark.term").first).to_be_visible()
    assert {"ISIL", "IS"} <= set(cited.locator("mark.term").all_inner_texts())
    page.keyboard.press("Escape")
    expect(link).to_be_focused()


def test_applied_spelling_is_a_note_and_the_answer_is_cited(session, engine):
    page, _ = session
    expected = as_json(engine.ask(HASAKEH))
    assert expected["query"]["spelling"] == [
        {"written": "Hasakeh", "suggested": "Al-Hasakah", "applied": True}
    ]
    ask(page, HASAKEH)
    answer = last_answer(page)
    note = answer.locator(".answer-note.lead")
    expect(note).to_have_text("Searched for Al-Hasakah — you wrote “Hasakeh”")
    # The note is said once: the answer text is the quote alone.
    text = answer.locator(".answer-text")
    expect(text).to_have_text(re.compile(r"^On 4 June, the Syrian government sent"))
    expect(text).not_to_contain_text("you wrote")
    expect(answer.locator("a.marker").first).to_have_text("1")
    expect(answer.locator(".source .cited").first).to_have_text(expected["citations"][0]["text"])
    expect(answer.locator(".did-you-mean")).to_have_count(0)
    expect(page.locator("#announcer")).to_contain_text("Searched for “Al-Hasakah”")
    shot(page, "17-spelling-applied-desktop")


def test_a_right_word_the_corpus_lacks_is_not_corrected(session, engine):
    page, _ = session
    expected = as_json(engine.ask(NO_ANSWER))
    assert expected["query"]["spelling"] == [] and expected["abstained"]
    ask(page, NO_ANSWER)
    answer = last_answer(page)
    expect(answer).to_contain_text("Not found in the documents")
    expect(answer.locator(".answer-text")).to_have_text(expected["answer"])
    expect(answer.locator(".lead, .did-you-mean, .chip, a.marker")).to_have_count(0)


def test_did_you_mean_asks_again_with_the_suggestion(session, engine):
    page, _ = session
    expected = as_json(engine.ask(SANJAR))
    assert expected["query"]["spelling"] == [
        {"written": "Sanjar", "suggested": "Sinjar", "applied": False}
    ]
    assert expected["abstained"]
    ask(page, SANJAR)
    answer = last_answer(page)
    expect(answer).to_contain_text("Not found in the documents")
    expect(answer.locator(".answer-text")).to_have_text(
        "The documents do not contain an answer to this question."
    )
    button = answer.get_by_role("button", name="Did you mean Sinjar?")
    expect(button).to_be_visible()
    shot(page, "18-did-you-mean-desktop")

    corrected = "What was the Sinjar offensive?"
    with page.expect_request(lambda r: r.url.endswith("/api/ask")) as sent:
        button.click()
    assert sent.value.post_data_json["question"] == corrected
    expect(page.locator(".turn")).to_have_count(2)
    expect(page.locator(".msg-user .msg-text").last).to_have_text(corrected)
    cited = as_json(engine.ask(corrected, [SANJAR]))["citations"][0]
    expect(last_answer(page).locator("a.marker").first).to_be_visible()
    expect(last_answer(page).locator(".source .cited").first).to_have_text(cited["text"])


def test_tell_me_more_continues_with_the_following_sentences(session, engine):
    page, _ = session
    ask(page, CHECKPOINT)
    first = as_json(engine.ask(CHECKPOINT))["citations"][0]
    more = as_json(engine.ask("Tell me more", [CHECKPOINT]))
    assert more["query"]["continues"] == {
        "passage_id": first["passage_id"],
        "document": first["document"]["id"],
        "direction": 1,
    }

    chip = last_answer(page).get_by_role("button", name="Tell me more")
    with page.expect_request(lambda r: r.url.endswith("/api/ask")) as sent:
        chip.click()
    assert sent.value.post_data_json["question"] == "Tell me more"
    assert sent.value.post_data_json["history"] == [CHECKPOINT]
    # It goes on from where the first answer stands, which the page sends back.
    assert sent.value.post_data_json["anchor"] == as_json(engine.ask(CHECKPOINT))["anchor"]
    expect(page.locator(".turn .msg-answer:not(.pending)")).to_have_count(2)
    answer = last_answer(page)
    note = answer.locator(".answer-note.lead")
    expect(note).to_contain_text("Continuing from “On 6 June, Syrian government forces")
    for citation in more["citations"]:
        expect(answer.locator(".answer-text")).to_contain_text(citation["text"])
    # Only the newest answer offers to go on, and the keyboard is on its "Tell me more".
    expect(page.locator(".chip:visible")).to_have_count(2)
    expect(answer.get_by_role("button", name="Tell me more")).to_be_focused()
    shot(page, "19-tell-me-more-desktop")

    # The note opens the passage it continues from.
    note.get_by_role("button").click()
    expect(page.locator("#viewer .passage.is-cited")).to_have_attribute(
        "data-passage", first["passage_id"]
    )


def test_phone_and_dark_theme_show_the_notes(browser, base_url):
    context, page, watch = open_page(browser, base_url, viewport=PHONE, color_scheme="dark")
    ask(page, ISIS)
    ask(page, HASAKEH)
    ask(page, CHECKPOINT)
    for part in (".conversation", ".msg-answer"):
        sizes = page.locator(part).last.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert sizes[0] <= sizes[1], (part, sizes)
    expect(last_answer(page).locator("mark.answer-span").first).to_be_visible()
    shot(page, "20-answer-span-dark-phone")
    page.locator(".turn").nth(1).evaluate("e => e.scrollIntoView({block: 'start'})")
    shot(page, "21-notes-dark-phone")
    follow_ups = last_answer(page).locator(".answer-actions")
    follow_ups.evaluate("e => e.scrollIntoView({block: 'end'})")
    assert box_of(follow_ups)["width"] <= PHONE["width"]
    shot(page, "22-follow-ups-dark-phone")
    assert watch.errors == []
    context.close()
