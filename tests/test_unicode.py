"""Text of every kind is accepted and never crashes; control characters are stripped."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.service.app import create_app
from qa.service.validation import clean_text


@pytest.fixture(scope="module")
def api(engine):
    """A client whose app has no rate limit, for the many requests of the property tests."""
    return create_app({"TESTING": True, "ENGINE": engine, "RATE_LIMIT": None}).test_client()


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Who\x00 won\x07?", "Who won?"),
        ("line one\nline two\ttab\r\n", "line one line two tab"),
        ("\x1b[31mred\x1b[0m", "[31mred[0m"),
        ("  padded  ", "padded"),
        ("a\x85b\x9fc", "a bc"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        ("عربي 中文 emoji 👩‍👩‍👧 e\u0301", "عربي 中文 emoji 👩‍👩‍👧 e\u0301"),
        ("\u200f\u202eRTL", "\u200f\u202eRTL"),
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_control_characters_are_stripped_before_answering(api):
    plain = api.post("/api/ask", json={"question": "How many civilians fled?"}).get_json()
    noisy = api.post(
        "/api/ask", json={"question": "How\x00 many\x1b civilians\n fled?\x7f"}
    ).get_json()
    assert noisy["answer"] == plain["answer"]
    assert noisy["query"]["terms"] == plain["query"]["terms"]


@pytest.mark.parametrize(
    "question",
    [
        "ما هي نتيجة الهجوم على الحسكة؟",
        "哈塞克发生了什么？",
        "🔥💥🏳️‍🌈" * 50,
        "Zalgo: H̸̡̪̯ͨ͊̽̅̾̎Ȩ̬̩̾͛ͪ̈́̀́͘ ̶̧̨̱̹̭̯ͧ̾ͬC̷̙̲̝͖ͭ̏ͥͮ͟Oͮ͏̮̪̝͍M̲̖͊̒ͪͩͬ̚̚͜Ȇ̴̟̟͙̞ͩ͌͝S̨̥̫͎̭ͯ̿̔̀ͅ",
        "\ufeff\u200b\u2060",
        "𝕬𝖑-𝕳𝖆𝖘𝖆𝖐𝖆𝖍",
        "ǅemal ǈubljana ﬁnance ẞ ß İ ı",
        "\U0010ffff\U000e0001",
    ],
)
def test_unusual_text_gets_an_answer_object(api, question):
    response = api.post("/api/ask", json={"question": question, "history": [question]})
    assert response.status_code == 200
    assert {"answer", "abstained", "citations"} <= set(response.get_json())


def test_a_lone_surrogate_escape_is_accepted(api):
    body = b'{"question": "Al-Hasakah \\ud800 offensive \\udfff"}'
    response = api.post("/api/ask", data=body, content_type="application/json")
    assert response.status_code == 200
    assert response.get_json()["citations"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    question=st.text(max_size=1000),
    history=st.lists(st.text(max_size=200), max_size=10),
)
def test_any_text_is_answered_or_refused_never_crashes(api, question, history):
    response = api.post("/api/ask", json={"question": question, "history": history})
    if clean_text(question):
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        assert response.status_code == 400
        assert response.get_json()["error"]["message"].startswith("question:")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_as_a_body_are_answered_or_refused(api, body):
    response = api.post("/api/ask", data=body, content_type="application/json")
    assert response.status_code in (200, 400)
    assert response.is_json


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=100))
def test_any_text_in_the_query_string_or_document_path(api, text):
    assert api.get("/api/ask", query_string={"q": text}).status_code in (200, 400)
    response = api.get("/api/documents/" + quote(text, safe=""))
    assert response.status_code in (200, 404)
    assert response.is_json
