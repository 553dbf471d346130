"""Adding, replacing and removing documents through the API, on a real app over a corpus of its own:
the keys, every kind of bad input, collections, and the original files served back safely."""

from __future__ import annotations

import io

import pytest

from qa.answer.engine import Engine
from qa.index.build import read_corpus
from qa.service.app import create_app
from tests import documents
from tests.documents import HTML, docx_bytes, pdf_bytes, zip_of

KEY = "upload-key-0123456789"
READ_KEY = "read-key-9876543210"
AUTH = {"Authorization": f"Bearer {KEY}"}
MAX_UPLOAD = 300_000
SUPPORTED = ".txt .md .html .htm .pdf .docx"

LOCKS = "= Canal locks =\n\nThe Wend canal has twelve locks. The top lock rises 2.4 metres.\n"
FERRY = "= Estuary ferry =\n\nThe estuary ferry was replaced in 1887 by a steam launch.\n"
MILL = "= Mill race =\n\nThe mill race was dug in 1802 by the Harwood brothers.\n"


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "bridges.txt").write_text(
        "= Bridges =\n\nThe stone bridge over the Wend was rebuilt in 1911.\n", "utf-8"
    )
    (folder / "harbour").mkdir()
    (folder / "harbour" / "quay.txt").write_text(
        "= Quay =\n\nThe quay was lengthened in 1910 for the coal trade.\n", "utf-8"
    )
    return folder


def make_app(corpus, tmp_path, **config):
    engine = Engine.open(corpus, tmp_path / "index")
    settings = {
        "TESTING": True,
        "ENGINE": engine,
        "RATE_LIMIT": None,
        "RELOAD": "off",
        "API_KEY": KEY,
        "MAX_UPLOAD": MAX_UPLOAD,
    }
    return create_app(settings | config)


@pytest.fixture
def client(corpus, tmp_path):
    return make_app(corpus, tmp_path).test_client()


def upload(client, *files, headers=AUTH, **fields):
    """POST /api/documents with `files` as (name, bytes) parts named file."""
    data = {"file": [(io.BytesIO(content), name) for name, content in files], **fields}
    return client.post(
        "/api/documents", data=data, headers=headers, content_type="multipart/form-data"
    )


def raw_upload(client, disposition: str, content: bytes = b"= T =\n\nSome text here.\n"):
    """A multipart body written out by hand, with the part's Content-Disposition as given."""
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; '
        + disposition.encode()
        + b"\r\nContent-Type: text/plain\r\n\r\n"
        + content
        + b"\r\n--XyZ--\r\n"
    )
    return client.post(
        "/api/documents",
        data=body,
        headers=AUTH,
        content_type="multipart/form-data; boundary=XyZ",
    )


def error(response) -> str:
    body = response.get_json()
    assert set(body) == {"error"}, body
    return body["error"]["message"]


def ask(client, question, **fields):
    response = client.post("/api/ask", json={"question": question, **fields})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# The key


def test_writes_with_no_key_configured_are_forbidden_and_say_how_to_enable_them(corpus, tmp_path):
    client = make_app(corpus, tmp_path, API_KEY=None).test_client()
    for response in (
        upload(client, ("locks.txt", LOCKS.encode())),
        upload(client, ("locks.txt", LOCKS.encode()), headers={}),
        client.delete("/api/documents/bridges", headers=AUTH),
        client.put("/api/documents/bridges", headers=AUTH),
    ):
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"
        assert "set QA_API_KEY" in error(response)
    assert sorted(p.name for p in corpus.rglob("*") if p.is_file()) == ["bridges.txt", "quay.txt"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": f"Bearer {KEY}x"},
        {"Authorization": f"Basic {KEY}"},
        {"Authorization": "Bearer "},
    ],
    ids=["missing", "wrong", "longer", "other-scheme", "empty"],
)
def test_writes_without_the_right_key_are_unauthorized(client, corpus, headers):
    for response in (
        upload(client, ("locks.txt", LOCKS.encode()), headers=headers),
        client.delete("/api/documents/bridges", headers=headers),
    ):
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "QA_API_KEY" in error(response)
    assert not (corpus / "uploads").exists()
    assert client.get("/api/documents/bridges").status_code == 200


def test_the_right_key_adds_a_document_answerable_at_once(client, corpus):
    response = upload(client, ("Canal Locks.txt", LOCKS.encode()))
    assert response.status_code == 201, response.get_data(as_text=True)
    [added] = response.get_json()["files"]
    assert added["outcome"] == "added"
    assert added["file"] == "Canal Locks.txt"  # the client's name, kept to show
    assert added["error"] is None
    assert added["stored"].startswith("uploads/canal-locks-") and added["stored"].endswith(".txt")
    assert (corpus / added["stored"]).read_text("utf-8") == LOCKS
    document = added["document"]
    assert document["title"] == "Canal locks"
    assert document["passages"] == 2
    assert document["collection"] == "uploads"
    answer = ask(client, "How many locks does the Wend canal have?")
    assert answer["citations"][0]["document"]["id"] == document["id"]
    assert any("twelve locks" in c["text"] for c in answer["citations"])
    # A restart (or `qa index`) sees the same documents: they are files of the corpus folder.
    assert document["id"] in {d.id for d in read_corpus(corpus).documents}


# Reads and QA_READ_KEY


def test_reads_are_open_unless_a_read_key_is_set(corpus, tmp_path, client):
    assert client.get("/api/documents").status_code == 200
    locked = make_app(corpus, tmp_path, READ_KEY=READ_KEY).test_client()
    for path in (
        "/api/documents",
        "/api/documents/bridges",
        "/api/ask?q=bridge",
        "/api/suggestions",
    ):
        refused = locked.get(path)
        assert refused.status_code == 401, path
        assert "QA_READ_KEY" in error(refused)
        assert locked.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert locked.get(path, headers={"Authorization": f"Bearer {READ_KEY}"}).status_code == 200
        assert locked.get(path, headers=AUTH).status_code == 200  # the API key reads too
    assert locked.post("/api/ask", json={"question": "bridge"}).status_code == 401
    # The probes and the description stay open, and the description says reads need the key.
    assert locked.get("/healthz").status_code == 200
    described = locked.get("/api/openapi.json").get_json()
    assert described["paths"]["/api/ask"]["post"]["security"] == [{"bearerAuth": []}]
    # The read key does not write.
    read_auth = {"Authorization": f"Bearer {READ_KEY}"}
    assert upload(locked, ("locks.txt", LOCKS.encode()), headers=read_auth).status_code == 401


def test_the_description_declares_the_bearer_scheme_on_writes(client):
    described = client.get("/api/openapi.json").get_json()
    assert described["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": described["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    paths = described["paths"]
    for path, method in [
        ("/api/documents", "post"),
        ("/api/documents/{doc_id}", "put"),
        ("/api/documents/{doc_id}", "delete"),
    ]:
        assert paths[path][method]["security"] == [{"bearerAuth": []}]
        assert "403" in paths[path][method]["responses"]
    assert "security" not in paths["/api/ask"]["post"]
    body = paths["/api/documents"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert body["schema"]["properties"]["file"]["items"]["format"] == "binary"


# Bad input: each refused with its own reason, nothing else lost


def test_an_upload_over_the_limit_is_413(client, corpus):
    big = ("= Big =\n\n" + "The canal is long. " * 20_000).encode()
    assert len(big) > MAX_UPLOAD
    response = upload(client, ("big.txt", big))
    assert response.status_code == 413
    assert str(MAX_UPLOAD) in error(response)
    assert not (corpus / "uploads").exists()
    # Questions keep their 64 KB limit.
    huge = client.post("/api/ask", json={"question": "x", "history": ["y" * 70_000]})
    assert huge.status_code == 413


@pytest.mark.parametrize(
    "name",
    [
        "../escape.txt",
        "notes/escape.txt",
        "/etc/passwd.txt",
        "a\x00b.txt",
        "bell\x07.txt",
        "rtl\u202e.txt",
    ],
)
def test_a_file_name_with_path_parts_or_control_characters_is_refused(client, corpus, name):
    response = upload(client, (name, LOCKS.encode()))
    assert response.status_code == 400, response.get_data(as_text=True)
    message = error(response)
    assert "path parts" in message or "control characters" in message
    assert sorted(p.name for p in corpus.rglob("*") if p.is_file()) == ["bridges.txt", "quay.txt"]
    assert not (corpus.parent / "escape.txt").exists()


@pytest.mark.parametrize(
    "disposition, message",
    [
        ('filename="..\\\\escape.txt"', "path parts"),  # a backslash, escaped in the quotes
        ("filename*=UTF-8''..%2Fescape.txt", "path parts"),
        ("filename*=UTF-8''a%0Ab.txt", "control characters"),
        ("filename*=UTF-8''tab%09.txt", "control characters"),
        ('filename=""', "no file name"),
    ],
)
def test_raw_file_names_are_checked_as_sent(client, corpus, disposition, message):
    response = raw_upload(client, disposition)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert message in error(response)
    assert sorted(p.name for p in corpus.rglob("*") if p.is_file()) == ["bridges.txt", "quay.txt"]


def test_the_same_file_twice_is_one_document(client, corpus):
    first = upload(client, ("locks.txt", LOCKS.encode())).get_json()["files"][0]
    again = upload(client, ("locks.txt", LOCKS.encode()))
    assert again.status_code == 200
    [second] = again.get_json()["files"]
    assert second["outcome"] == "exists"
    assert second["document"]["id"] == first["document"]["id"]
    # Under another name, in the same call too: still the one document.
    renamed = upload(client, ("Locks copy.txt", LOCKS.encode()), ("locks.txt", LOCKS.encode()))
    assert renamed.status_code == 200
    assert {f["document"]["id"] for f in renamed.get_json()["files"]} == {first["document"]["id"]}
    assert len(list((corpus / "uploads").iterdir())) == 1
    ids = [d["id"] for d in client.get("/api/documents").get_json()["documents"]]
    assert ids.count(first["document"]["id"]) == 1 and len(ids) == 3


@pytest.mark.parametrize("name", ["photo.png", "archive.tar.gz", "README", "script.exe"])
def test_an_unsupported_type_is_415_listing_the_supported_ones(client, corpus, name):
    response = upload(client, (name, b"\x89PNG\r\n\x1a\n rest"))
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"
    assert SUPPORTED in error(response)
    assert not (corpus / "uploads").exists()


def test_a_body_that_is_not_multipart_is_415(client):
    response = client.post("/api/documents", json={"file": "x"}, headers=AUTH)
    assert response.status_code == 415
    assert "multipart/form-data" in error(response)


BAD_FILES = {
    "encrypted.pdf": (documents.encrypted_pdf, "encrypted PDF: it needs a password"),
    "scan.pdf": (lambda: documents.blank_pdf(2), "no text layer; scanned PDFs need OCR first"),
    "cut.pdf": (lambda: pdf_bytes()[:1500], "damaged or truncated PDF"),
    "cut.docx": (lambda: docx_bytes()[:5000], "not a Word document: not a zip"),
    "notword.docx": (lambda: zip_of({"hello.txt": b"hi"}), "without word/document.xml"),
    "empty.txt": (lambda: b"", "empty file"),
    "notutf8.txt": (lambda: b"\xff\xfe caf\xe9", "not UTF-8 text"),
    "script.html": (lambda: b"<script>alert(1)</script>", "no text"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_files_the_readers_cannot_use_are_refused_with_their_reason(client, corpus, name):
    make, reason = BAD_FILES[name]
    response = upload(client, (name, make()))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert reason in error(response)
    assert error(response).startswith(f"{name}: ")
    assert not (corpus / "uploads").exists()


def test_a_bad_file_in_a_batch_does_not_stop_the_others(client, corpus):
    response = upload(
        client,
        ("locks.txt", LOCKS.encode()),
        ("encrypted.pdf", documents.encrypted_pdf()),
        ("photo.png", b"\x89PNG"),
        ("../up.txt", FERRY.encode()),
        ("report.pdf", pdf_bytes()),
        ("harbour.docx", docx_bytes()),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    files = response.get_json()["files"]
    assert [f["file"] for f in files] == [
        "locks.txt",
        "encrypted.pdf",
        "photo.png",
        "../up.txt",
        "report.pdf",
        "harbour.docx",
    ]
    assert [f["outcome"] for f in files] == [
        "added",
        "refused",
        "refused",
        "refused",
        "added",
        "added",
    ]
    assert "encrypted PDF" in files[1]["error"]["message"]
    assert files[2]["error"]["code"] == "unsupported_media_type"
    assert files[3]["error"]["code"] == "bad_request"
    assert files[4]["document"]["title"] == "Rivers of the Wend"
    assert files[5]["document"]["title"] == "Harbour works"
    assert len(list((corpus / "uploads").iterdir())) == 3
    answer = ask(client, "When was the harbour dredged?")
    assert answer["citations"][0]["document"]["id"] == files[5]["document"]["id"]


def test_a_batch_refused_for_different_reasons_is_400_naming_each_file(client):
    response = upload(client, ("photo.png", b"\x89PNG"), ("empty.txt", b""))
    assert response.status_code == 400
    message = error(response)
    assert "photo.png: " in message and "empty.txt: empty file" in message


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"collection": "../up"}, "collection: must be"),
        ({"collection": ".hidden"}, "collection: must be"),
        ({"collection": "a/b"}, "collection: must be"),
        ({"collection": "x" * 65}, "collection: must be"),
        ({"colection": "reports"}, "colection: unknown field"),
    ],
)
def test_bad_collections_and_unknown_fields_are_refused(client, corpus, fields, message):
    response = upload(client, ("locks.txt", LOCKS.encode()), **fields)
    assert response.status_code == 400
    assert message in error(response)
    assert sorted(p.name for p in corpus.iterdir()) == ["bridges.txt", "harbour"]


def test_a_collection_that_links_out_of_the_corpus_is_not_written_through(client, corpus, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (corpus / "linked").symlink_to(outside, target_is_directory=True)
    response = upload(client, ("locks.txt", LOCKS.encode()), collection="linked")
    assert response.status_code == 400
    assert "not a folder of the corpus" in error(response)
    assert list(outside.iterdir()) == []


def test_no_file_part_is_refused(client):
    response = client.post(
        "/api/documents", data={"collection": "x"}, headers=AUTH, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "file: at least one" in error(response)


# Collections


def test_collections_scope_a_question_and_are_listed(client, corpus):
    added = upload(client, ("mill.txt", MILL.encode()), collection="mills")
    [mill] = added.get_json()["files"]
    assert mill["stored"].startswith("mills/mill-")
    assert mill["document"]["collection"] == "mills"
    listed = {
        d["id"]: d["collection"] for d in client.get("/api/documents").get_json()["documents"]
    }
    assert listed == {"bridges": None, "harbour-quay": "harbour", mill["document"]["id"]: "mills"}
    answer = ask(client, "When was the quay lengthened?", collections=["mills"])
    assert all(c["document"]["id"] == mill["document"]["id"] for c in answer["citations"])
    answer = ask(client, "When was the quay lengthened?", collections=["harbour", "mills"])
    assert answer["citations"][0]["document"]["id"] == "harbour-quay"
    got = client.get("/api/ask?q=When+was+the+quay+lengthened&collections=harbour").get_json()
    assert got["citations"][0]["document"]["id"] == "harbour-quay"
    # With documents: those of them in the collections.
    both = ask(client, "quay", documents=["harbour-quay", "bridges"], collections=["harbour"])
    assert {c["document"]["id"] for c in both["citations"]} <= {"harbour-quay"}
    none = client.post(
        "/api/ask", json={"question": "quay", "documents": ["bridges"], "collections": ["harbour"]}
    )
    assert none.status_code == 400 and "collections:" in error(none)
    unknown = client.post("/api/ask", json={"question": "quay", "collections": ["nope"]})
    assert unknown.status_code == 400
    assert error(unknown) == "collections[0]: unknown collection 'nope'"
    # The documents filter still works on its own.
    only = ask(client, "When was the quay lengthened?", documents=["bridges"])
    assert {c["document"]["id"] for c in only["citations"]} <= {"bridges"}


# Replacing and removing


def test_put_replaces_a_document_with_a_new_id(client, corpus):
    [old] = upload(client, ("ferry.txt", FERRY.encode())).get_json()["files"]
    new_text = FERRY.replace("1887", "1889")
    response = client.put(
        f"/api/documents/{old['document']['id']}",
        data={"file": (io.BytesIO(new_text.encode()), "ferry.txt")},
        headers=AUTH,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    [replaced] = response.get_json()["files"]
    assert replaced["outcome"] == "replaced"
    assert replaced["removed"] == old["document"]["id"]
    assert replaced["document"]["id"] != old["document"]["id"]
    assert not (corpus / old["stored"]).exists()
    assert (corpus / replaced["stored"]).read_text("utf-8") == new_text
    assert client.get(f"/api/documents/{old['document']['id']}").status_code == 404
    assert "1889" in ask(client, "When was the estuary ferry replaced?")["answer"]


def test_put_refuses_bad_input_and_keeps_the_document(client, corpus):
    cases = [
        ("/api/documents/nope", {"file": (io.BytesIO(b"x"), "a.txt")}, 404),
        ("/api/documents/bridges", {"file": (io.BytesIO(b"\x89PNG"), "a.png")}, 415),
        ("/api/documents/bridges", {"file": (io.BytesIO(documents.encrypted_pdf()), "a.pdf")}, 400),
        ("/api/documents/bridges", {"collection": "x", "file": (io.BytesIO(b"x"), "a.txt")}, 400),
    ]
    for path, data, status in cases:
        response = client.put(path, data=data, headers=AUTH, content_type="multipart/form-data")
        assert response.status_code == status, (path, response.get_data(as_text=True))
    assert (corpus / "bridges.txt").exists()
    assert client.get("/api/documents/bridges").status_code == 200


def test_delete_removes_the_document_and_its_file(client, corpus):
    response = client.delete("/api/documents/bridges", headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    [removed] = response.get_json()["files"]
    assert removed["outcome"] == "removed" and removed["removed"] == "bridges"
    assert not (corpus / "bridges.txt").exists()
    assert client.get("/api/documents/bridges").status_code == 404
    unknown = client.post("/api/ask", json={"question": "bridge", "documents": ["bridges"]})
    assert unknown.status_code == 400
    assert client.delete("/api/documents/bridges", headers=AUTH).status_code == 404
    # The last document is not removed: the corpus would hold none.
    last = client.delete("/api/documents/harbour-quay", headers=AUTH)
    assert last.status_code == 409
    assert "no usable document" in error(last)
    assert (corpus / "harbour" / "quay.txt").exists()
    assert client.get("/api/documents/harbour-quay").status_code == 200


# The original file


def test_the_original_file_comes_back_with_a_safe_content_type(client, corpus):
    pdf, docx_data = pdf_bytes(), docx_bytes()
    files = upload(
        client, ("page.html", HTML.encode()), ("report.pdf", pdf), ("harbour.docx", docx_data)
    ).get_json()["files"]
    html_id, pdf_id, docx_id = (f["document"]["id"] for f in files)
    html = client.get(f"/api/documents/{html_id}/file")
    assert html.status_code == 200
    assert html.data == HTML.encode()
    assert html.headers["Content-Type"] == "application/octet-stream"  # never text/html
    assert html.headers["Content-Disposition"].startswith("attachment")
    assert html.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in html.headers["Content-Security-Policy"]
    served = client.get(f"/api/documents/{pdf_id}/file")
    assert served.data == pdf and served.headers["Content-Type"] == "application/pdf"
    word = client.get(f"/api/documents/{docx_id}/file")
    assert word.data == docx_data
    assert word.headers["Content-Disposition"].startswith("attachment")
    text = client.get("/api/documents/bridges/file")
    assert text.data == (corpus / "bridges.txt").read_bytes()
    assert client.get("/api/documents/nope/file").status_code == 404
