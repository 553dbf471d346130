"""Real responses validate against the served OpenAPI description, with no undeclared field.

The description's response schemas are made from the response dataclasses (qa.service.schema)
and allow no other property, so a field that a response carries and the description does not
declare fails here, and so does a declared field missing from a response.
"""

from __future__ import annotations

import jsonschema_rs
import pytest

from qa.service import openapi
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


def test_document_writes_and_files_validate(tmp_path):
    """Uploads, replacements, removals and their refusals, on an app with a key and a corpus of
    its own, against the description that app serves."""
    import io

    from qa.answer.engine import Engine
    from qa.service.app import create_app
    from tests.documents import pdf_bytes

    corpus = tmp_path / "corpus"
    (corpus / "harbour").mkdir(parents=True)
    (corpus / "harbour" / "quay.txt").write_text("= Quay =\n\nThe quay was built in 1910.\n")
    (corpus / "bridge.txt").write_text("= Bridge =\n\nThe bridge was rebuilt in 1911.\n")
    key = {"Authorization": "Bearer k-123"}
    app = create_app(
        {
            "TESTING": True,
            "ENGINE": Engine.open(corpus, tmp_path / "index"),
            "RATE_LIMIT": None,
            "API_KEY": "k-123",
            "MAX_UPLOAD": 100_000,
        }
    )
    client = app.test_client()
    served = client.get("/api/openapi.json").get_json()

    def post(*files, headers=key, **fields):
        data = {"file": [(io.BytesIO(b), name) for name, b in files], **fields}
        return client.post(
            "/api/documents", data=data, headers=headers, content_type="multipart/form-data"
        )

    mill = b"= Mill =\n\nThe mill was built in 1802.\n"
    added = post(("mill.txt", mill), ("x.png", b"png"), ("r.pdf", pdf_bytes()), collection="c")
    check(served, added, 201, "/api/documents", "post")
    check(served, post(("mill.txt", mill), collection="c"), 200, "/api/documents", "post")
    check(served, post(("x.png", b"png")), 415, "/api/documents", "post")
    check(served, post(("e.txt", b"")), 400, "/api/documents", "post")
    check(served, post(("big.txt", b"x" * 200_000)), 413, "/api/documents", "post")
    check(served, post(("m.txt", mill), headers={}), 401, "/api/documents", "post")
    doc_id = added.get_json()["files"][0]["document"]["id"]
    one = "/api/documents/{doc_id}"
    replacement = {"file": (io.BytesIO(b"= Mill =\n\nThe mill was built in 1803.\n"), "m.txt")}
    replaced = client.put(
        f"/api/documents/{doc_id}",
        data=replacement,
        headers=key,
        content_type="multipart/form-data",
    )
    check(served, replaced, 200, one, "put")
    new_id = replaced.get_json()["files"][0]["document"]["id"]
    check(served, client.get(f"/api/documents/{new_id}"), 200, one)
    check(served, client.delete(f"/api/documents/{new_id}", headers=key), 200, one, "delete")
    check(served, client.delete("/api/documents/nope", headers=key), 404, one, "delete")
    check(served, client.delete("/api/documents/bridge"), 401, one, "delete")
    listed = client.get("/api/documents")
    check(served, listed, 200, "/api/documents")
    assert {d["collection"] for d in listed.get_json()["documents"]} == {None, "harbour", "c"}
    asked = client.post("/api/ask", json={"question": "quay", "collections": ["harbour"]})
    check(served, asked, 200, "/api/ask", "post")
    file = client.get("/api/documents/bridge/file")
    assert file.status_code == 200
    declared = served["paths"]["/api/documents/{doc_id}/file"]["get"]["responses"]["200"]
    assert file.mimetype in declared["content"]
    check(served, client.get("/api/documents/nope/file"), 404, "/api/documents/{doc_id}/file")
    forbidden = create_app({"TESTING": True, "ENGINE": app.config["ENGINE"], "RATE_LIMIT": None})
    check(
        served,
        forbidden.test_client().delete("/api/documents/bridge", headers=key),
        403,
        one,
        "delete",
    )


def test_every_declared_field_occurs_in_some_response(client, description):
    """No schema declares a field that no real response carries (every field is required)."""
    schemas = description["components"]["schemas"]
    generated = components(*openapi.RESPONSES)
    assert set(generated) <= set(schemas)
    for name, schema in generated.items():
        assert schema["required"] == list(schema["properties"]), name
        assert schema["additionalProperties"] is False, name
