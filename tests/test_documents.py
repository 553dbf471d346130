"""GET /api/documents: the document list a page at a time, filtered by title or id."""

import pytest

from qa.answer.model import as_json
from qa.service.app import create_app
from tests.helpers import MANY_DOCUMENTS


@pytest.fixture
def many_client(many_documents):
    return create_app({"TESTING": True, "ENGINE": many_documents}).test_client()


def listing(client, **query) -> dict:
    response = client.get("/api/documents", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_pages_cover_every_document_once_in_corpus_order(many_client, many_documents):
    ids, offset = [], 0
    while offset is not None:
        page = listing(many_client, offset=offset, limit=70)
        assert page["total"] == MANY_DOCUMENTS
        assert len(page["documents"]) <= 70
        ids += [d["id"] for d in page["documents"]]
        offset = page["next_offset"]
    assert ids == [d["id"] for d in as_json(many_documents.documents())]


def test_the_default_page_is_the_first_hundred(many_client):
    page = listing(many_client)
    assert len(page["documents"]) == 100
    assert (page["offset"], page["limit"], page["next_offset"]) == (0, 100, 100)


def test_an_offset_past_the_end_is_an_empty_last_page(many_client):
    page = listing(many_client, offset=10**6)
    assert page["documents"] == [] and page["next_offset"] is None
    assert page["total"] == MANY_DOCUMENTS


@pytest.mark.parametrize("text", ["kobani", "KOBANÎ", "siege of", "siege"])
def test_q_finds_titles_case_and_accents_aside(many_client, text):
    page = listing(many_client, q=text)
    assert [d["title"] for d in page["documents"]] == ["Siege of Kobanî"]
    assert page["total"] == 1


def test_q_finds_ids_and_counts_all_matches(many_client):
    page = listing(many_client, q="report-1", limit=5)
    assert page["total"] == 100  # report-100 ... report-199
    assert [d["id"] for d in page["documents"]] == [f"report-1{n:02d}" for n in range(5)]
    assert listing(many_client, q="no such document")["total"] == 0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "0"}, "limit: must be an integer from 1 to 1000"),
        ({"limit": "1001"}, "limit: must be an integer from 1 to 1000"),
        ({"limit": "ten"}, "limit: must be an integer from 1 to 1000"),
        ({"offset": "-1"}, "offset: must be an integer from 0 to 1000000000"),
        ({"offset": "1e3"}, "offset: must be an integer from 0 to 1000000000"),
        ({"offset": "9" * 400}, "offset: must be an integer from 0 to 1000000000"),
        ({"q": "x" * 1001}, "q: at most 1000 characters"),
    ],
)
def test_bad_parameters_get_a_clear_error(client, query, message):
    response = client.get("/api/documents", query_string=query)
    assert response.status_code == 400
    assert response.get_json() == {"error": {"code": "bad_request", "message": message}}
