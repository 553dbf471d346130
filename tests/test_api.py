"""The JSON endpoints answer with what the engine gives, in the documented shapes."""

from __future__ import annotations

from qa.answer.model import as_json

QUESTION = "How many civilians fled Al-Hasakah?"
HASAKAH = "al-hasakah-city-offensive"
EASTERN = "2014-eastern-syria-offensive"


def test_post_ask_returns_a_cited_answer(client):
    response = client.post("/api/ask", json={"question": QUESTION})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) >= {"answer", "abstained", "citations", "query", "took_ms"}
    assert body["abstained"] is False
    assert "4,000+ civilians fled" in body["answer"]
    assert 1 <= len(body["citations"]) <= 5
    first = body["citations"][0]
    assert first["n"] == 1
    assert first["document"]["id"] == HASAKAH
    assert first["passage_id"].startswith(f"{HASAKAH}:")
    assert isinstance(body["took_ms"], int | float)


def test_post_ask_matches_the_engine(client, engine):
    body = client.post("/api/ask", json={"question": QUESTION, "k": 3}).get_json()
    direct = as_json(engine.ask(QUESTION, k=3))
    assert body["answer"] == direct["answer"]
    assert [c["passage_id"] for c in body["citations"]] == [
        c["passage_id"] for c in direct["citations"]
    ]


def test_k_bounds_the_number_of_citations(client):
    one = client.post("/api/ask", json={"question": "Al-Hasakah offensive", "k": 1}).get_json()
    many = client.post("/api/ask", json={"question": "Al-Hasakah offensive", "k": 20}).get_json()
    assert len(one["citations"]) == 1
    assert len(many["citations"]) > 5


def test_k_may_be_written_as_a_whole_float(client):
    response = client.post("/api/ask", json={"question": "Al-Hasakah offensive", "k": 2.0})
    assert response.status_code == 200
    assert len(response.get_json()["citations"]) == 2


def test_documents_restricts_the_search(client):
    question = "Who launched the offensive?"
    for doc_id in (HASAKAH, EASTERN):
        body = client.post("/api/ask", json={"question": question, "documents": [doc_id]})
        cited = {c["document"]["id"] for c in body.get_json()["citations"]}
        assert cited == {doc_id}


def test_history_feeds_the_query(client):
    body = client.post(
        "/api/ask",
        json={"question": "How many were killed?", "history": ["Tell me about Al-Hasakah"]},
    ).get_json()
    assert body["query"]["from_history"], body["query"]


def test_get_ask_answers_like_post(client):
    got = client.get("/api/ask", query_string={"q": QUESTION, "k": 2})
    posted = client.post("/api/ask", json={"question": QUESTION, "k": 2})
    assert got.status_code == 200
    assert got.get_json()["answer"] == posted.get_json()["answer"]
    assert len(got.get_json()["citations"]) == 2


def test_get_ask_takes_repeated_documents(client):
    response = client.get(
        "/api/ask", query_string=[("q", "Who launched the offensive?"), ("documents", EASTERN)]
    )
    assert response.status_code == 200
    assert {c["document"]["id"] for c in response.get_json()["citations"]} == {EASTERN}


def test_an_unanswerable_question_abstains(client):
    body = client.post("/api/ask", json={"question": "zyxwv qwertyuiop"}).get_json()
    assert body["abstained"] is True
    assert body["citations"] == []


def test_documents_lists_every_document(client, engine):
    response = client.get("/api/documents")
    assert response.status_code == 200
    documents = response.get_json()["documents"]
    assert [d["id"] for d in documents] == [EASTERN, HASAKAH]
    hasakah = documents[1]
    assert hasakah["title"] == "Al-Hasakah city offensive"
    assert "Background" in hasakah["sections"]
    assert hasakah["passages"] == engine.stats()["passages"] - documents[0]["passages"]


def test_document_gives_ordered_passages_with_offsets(client):
    response = client.get(f"/api/documents/{HASAKAH}")
    assert response.status_code == 200
    document = response.get_json()
    assert document["id"] == HASAKAH
    passages = document["passages"]
    starts = [p["start"] for p in passages]
    assert starts == sorted(starts)
    assert all(p["start"] < p["end"] for p in passages)
    assert {"id", "section", "kind", "text", "start", "end"} <= set(passages[0])


def test_a_cited_passage_can_be_found_in_its_document(client):
    citation = client.post("/api/ask", json={"question": QUESTION}).get_json()["citations"][0]
    document = client.get(f"/api/documents/{citation['document']['id']}").get_json()
    passage = next(p for p in document["passages"] if p["id"] == citation["passage_id"])
    assert (passage["start"], passage["end"], passage["text"]) == (
        citation["start"],
        citation["end"],
        citation["text"],
    )


def test_suggestions_come_from_the_engine(client, engine):
    response = client.get("/api/suggestions")
    assert response.status_code == 200
    suggestions = response.get_json()["suggestions"]
    assert suggestions == engine.suggestions()
    assert suggestions and all(s.endswith("?") for s in suggestions)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_the_loaded_corpus(client, engine):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["documents"] == 2
    assert body["passages"] == engine.stats()["passages"] > 0
    assert body["skipped"] == []


def test_openapi_lists_every_api_route(client, app):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    routes = {
        rule.rule.replace("<doc_id>", "{doc_id}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and rule.rule != "/api/openapi.json"
    } | {"/healthz", "/readyz"}
    assert set(spec["paths"]) == routes
    assert set(spec["paths"]["/api/ask"]) == {"get", "post"}


def test_openapi_offers_the_corpus_document_ids(client):
    spec = client.get("/api/openapi.json").get_json()
    body = spec["paths"]["/api/ask"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["properties"]["documents"]["items"]["enum"] == [EASTERN, HASAKAH]


def test_create_app_opens_the_engine_from_config(tmp_path, engine):
    from qa.service.app import create_app

    app = create_app(
        {"TESTING": True, "CORPUS_DIR": str(engine.corpus_dir), "INDEX_DIR": str(tmp_path)}
    )
    assert app.config["ENGINE"].stats() == engine.stats()
    assert app.test_client().get("/readyz").get_json()["documents"] == 2


def test_settings_come_from_the_environment():
    from qa.service.app import settings_from_env

    settings = settings_from_env(
        {
            "QA_CORPUS": "/c",
            "QA_INDEX": "/i",
            "QA_WEB": "/w",
            "QA_PDFJS": "/p",
            "QA_RATE_LIMIT": "5/second",
            "QA_RELOAD": "off",
            "QA_API_KEY": "write-key",
            "QA_READ_KEY": "read-key",
            "QA_MAX_UPLOAD": "1000",
            "QA_CLUSTER": "127.0.0.1:6379",
            "QA_REPLICAS": "2",
        }
    )
    assert settings == {
        "CORPUS_DIR": "/c",
        "INDEX_DIR": "/i",
        "WEB_DIR": "/w",
        "PDFJS_DIR": "/p",
        "RATE_LIMIT": "5/second",
        "RELOAD": "off",
        "API_KEY": "write-key",
        "READ_KEY": "read-key",
        "MAX_UPLOAD": 1000,
        "CLUSTER": "127.0.0.1:6379",
        "REPLICAS": 2,
    }
    defaults = settings_from_env({})
    assert defaults["CORPUS_DIR"] is None and defaults["INDEX_DIR"] is None
    assert defaults["CLUSTER"] is None and defaults["REPLICAS"] == 1
    assert defaults["WEB_DIR"].endswith("web")
    assert defaults["PDFJS_DIR"].endswith("node_modules/pdfjs-dist")
    assert defaults["RATE_LIMIT"] == "60/minute"
    assert defaults["RELOAD"] == "1"
    assert defaults["API_KEY"] is None and defaults["READ_KEY"] is None  # no writes, open reads
    assert defaults["MAX_UPLOAD"] == 32 * 1024 * 1024
