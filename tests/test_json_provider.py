"""JSON responses: encoded by orjson, with Flask's provider behind it for what orjson refuses."""

import json
from decimal import Decimal

from qa.answer.model import as_json


def _pairs_sorted(body: bytes) -> bool:
    """Whether every object in the JSON text has its keys in sorted order."""
    ordered = []
    json.loads(body, object_pairs_hook=lambda pairs: ordered.append(pairs) or dict(pairs))
    return all([k for k, _ in pairs] == sorted(k for k, _ in pairs) for pairs in ordered)


def test_answer_decodes_to_the_engine_answer_with_sorted_keys(client, engine):
    question = "Who backed the YPG in its May 2015 offensive?"
    response = client.post("/api/ask", json={"question": question})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.data.endswith(b"}\n")
    assert _pairs_sorted(response.data)
    answer = response.get_json()
    expected = as_json(engine.ask(question))
    answer.pop("took_ms"), expected.pop("took_ms")
    assert answer == expected


def test_text_is_sent_as_utf8(client):
    response = client.get("/api/ask", query_string={"q": "What happened in Hasakeh on 4 June?"})
    assert "\u201c".encode() in response.data
    assert b"\\u201c" not in response.data


def test_lone_surrogate_falls_back_to_escapes(app):
    with app.app_context():
        response = app.json.response({"text": "a\ud800b", "n": 1})
    assert response.data == b'{"n":1,"text":"a\\ud800b"}\n'
    assert json.loads(response.data)["text"] == "a\ud800b"


def test_unknown_type_falls_back_to_flask_encoder(app):
    with app.app_context():
        response = app.json.response({"value": Decimal("1.50")})
    assert json.loads(response.data) == {"value": "1.50"}
