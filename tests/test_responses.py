"""Real responses validate against the served OpenAPI description, with no undeclared field.

The description's response schemas are made from the response dataclasses (qa.service.schema)
and allow no other property, so a field that a response carries and the description does not
declare fails here, and so does a declared field missing from a response.
"""

from __future__ import annotations

import jsonschema_rs
import pytest

from qa.service.schema import components

KWAYRES = "What happened at the Kwayres air base?"


@pytest.fixture(scope="module")
def description(engine):
    from qa.service.app import create_app

    client = create_app({"TESTING": True, "ENGINE": engine, "RATE_LIMIT": None}).test_client()
    return client.get("/api/openapi.json").get_json()


def check(description: dict, response, status: int, path: str, method: str = "get") -> None:
    """The response has the status and validates against what the description says of it."""
    assert response.status_code == status, response.get_data(as_text=True)
    declared = description["paths"][path][method]["responses"][str(status)]
    if "$ref" in declared:  # a shared error response
        declared = description["components"]["responses"][declared["$ref"].rsplit("/", 1)[1]]
    schema = {**declared["content"]["application/json"]["schema"], **description}
    jsonschema_rs.validator_for(schema).validate(response.get_json())


@pytest.mark.parametrize(
    "body",
    [
        {"question": KWAYRES},
        {"question": "Who backed the YPG in its May 2015 offensive?", "k": 20},
        {"question": "What happened in Hasakeh on 4 June?"},  # a spelling note
        {"question": "What did ISIS do on 23 June?"},  # an alias
        {"question": "What is the boiling point of water?"},  # abstained
        {"question": "the of and"},  # no searchable words
        {"question": "Tell me more", "history": [KWAYRES]},
        {"question": "Tell me more"},  # nothing to continue
        {"question": "What happened to the militants on the Political Bridge?"},
        {
            "question": "Tell me more",
            "anchor": {"document": "2014-eastern-syria-offensive", "first": 12, "last": 12},
        },  # past the last passage
    ],
)
def test_answers_validate(client, description, body):
    check(description, client.post("/api/ask", json=body), 200, "/api/ask", "post")


def test_a_follow_up_with_the_answer_anchor_validates(client, description):
    first = client.post("/api/ask", json={"question": KWAYRES}).get_json()
    more = client.post("/api/ask", json={"question": "Tell me more", "anchor": first["anchor"]})
    check(description, more, 200, "/api/ask", "post")
    assert (
        more.get_json()["query"]["continues"]["passage_id"] == first["citations"][0]["passage_id"]
    )


def test_documents_validate(client, description):
    check(description, client.get("/api/documents"), 200, "/api/documents")
    check(description, client.get("/api/documents?limit=1"), 200, "/api/documents")
    for doc in client.get("/api/documents").get_json()["documents"]:
        check(
            description,
            client.get(f"/api/documents/{doc['id']}"),
            200,
            "/api/documents/{doc_id}",
        )


def test_document_files_are_declared(client, description):
    declared = description["paths"]["/api/documents/{doc_id}/file"]["get"]["responses"]["200"]
    for doc in client.get("/api/documents").get_json()["documents"]:
        response = client.get(f"/api/documents/{doc['id']}/file")
        assert response.status_code == 200
        assert response.mimetype in declared["content"]


def test_probes_and_suggestions_validate(client, description):
    check(description, client.get("/healthz"), 200, "/healthz")
    check(description, client.get("/readyz"), 200, "/readyz")
    check(description, client.get("/api/suggestions"), 200, "/api/suggestions")


@pytest.mark.parametrize(
    ("send", "status", "path", "method"),
    [
        (lambda c: c.post("/api/ask", json={"question": 5}), 400, "/api/ask", "post"),
        (
            lambda c: c.post("/api/ask", data="x", content_type="text/plain"),
            415,
            "/api/ask",
            "post",
        ),
        (lambda c: c.post("/api/ask", json={"question": "x" * 70_000}), 413, "/api/ask", "post"),
        (lambda c: c.get("/api/ask?q="), 400, "/api/ask", "get"),
        (lambda c: c.get("/api/documents?limit=0"), 400, "/api/documents", "get"),
        (lambda c: c.get("/api/documents/nope"), 404, "/api/documents/{doc_id}", "get"),
        (
            lambda c: c.get("/api/documents/nope/file"),
            404,
            "/api/documents/{doc_id}/file",
            "get",
        ),
        (
            lambda c: c.post("/api/ask", json={"question": "more", "anchor": {"document": 1}}),
            400,
            "/api/ask",
            "post",
        ),
    ],
)
def test_errors_validate(client, description, send, status, path, method):
    check(description, send(client), status, path, method)


def test_every_declared_field_occurs_in_some_response(client, description):
    """No schema declares a field that no real response carries (every field is required)."""
    schemas = description["components"]["schemas"]
    generated = components(*_roots())
    assert set(generated) <= set(schemas)
    for name, schema in generated.items():
        assert schema["required"] == list(schema["properties"]), name
        assert schema["additionalProperties"] is False, name


def _roots():
    from qa.answer.model import Answer, DocumentView
    from qa.service.responses import DocumentPage, Error, Health, Ready, SuggestionList

    return Answer, DocumentView, DocumentPage, SuggestionList, Health, Ready, Error
