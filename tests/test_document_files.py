"""GET /api/documents/<id>/file: the original bytes, by document id, with a type that is safe
to serve from our origin (a PDF for pdf.js; HTML, Word and text only as attachments)."""

from __future__ import annotations

import pytest

from qa.answer.engine import Engine
from qa.service.app import create_app
from tests import documents


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("files")
    made = {
        "report.pdf": documents.pdf_bytes(),
        "canal.html": documents.HTML,
        "harbour.docx": documents.docx_bytes(),
        "notes/mill.md": documents.MARKDOWN,
        "plain.txt": "The mill was built in 1802.\n",
    }
    for name, data in made.items():
        documents.write(folder, name, data)
    (tmp_path_factory.getbasetemp() / "secret.txt").write_text("not for the web", "utf-8")
    engine = Engine.open(folder, tmp_path_factory.mktemp("files-index"))
    client = create_app({"TESTING": True, "ENGINE": engine, "RATE_LIMIT": "off"}).test_client()
    ids = {doc.id: doc.path for doc in engine.corpus.documents}
    by_name = {path: doc_id for doc_id, path in ids.items()}
    return client, folder, by_name


@pytest.mark.parametrize(
    ("name", "mimetype", "attachment"),
    [
        ("report.pdf", "application/pdf", False),
        ("canal.html", "application/octet-stream", True),
        ("harbour.docx", "application/octet-stream", True),
        ("notes/mill.md", "text/plain", True),
        ("plain.txt", "text/plain", True),
    ],
)
def test_the_original_bytes_with_a_safe_type(files, name, mimetype, attachment):
    client, folder, by_name = files
    response = client.get(f"/api/documents/{by_name[name]}/file")
    assert response.status_code == 200
    assert response.data == (folder / name).read_bytes()
    assert response.mimetype == mimetype
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers.get("Content-Disposition", "")
    assert disposition.startswith("attachment") == attachment
    assert "text/html" not in response.content_type


@pytest.mark.parametrize(
    "doc_id",
    ["nope", "..", "%2e%2e%2fsecret.txt", "..%2fsecret.txt", "report.pdf", "%2fetc%2fpasswd"],
)
def test_unknown_ids_are_the_one_json_404(files, doc_id):
    client, _, _ = files
    response = client.get(f"/api/documents/{doc_id}/file")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert b"not for the web" not in response.data and b"root:" not in response.data


def test_a_file_gone_since_indexing_is_a_404(tmp_path):
    folder = tmp_path / "corpus"
    documents.write(folder, "gone.txt", "The ferry ran until 1887.\n")
    engine = Engine.open(folder, tmp_path / "index")
    (folder / "gone.txt").unlink()
    client = create_app({"TESTING": True, "ENGINE": engine}).test_client()
    doc_id = engine.corpus.documents[0].id
    assert client.get(f"/api/documents/{doc_id}/file").status_code == 404
