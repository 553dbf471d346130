from pathlib import Path

import pytest

from qa.index.build import read_corpus
from qa.ingest.corpus import CorpusError, corpus_files, fingerprint, slugify
from qa.ingest.sentences import strip_citations
from tests.helpers import DEFAULT_CORPUS


def test_default_corpus_has_both_documents():
    corpus = read_corpus(DEFAULT_CORPUS)
    assert [d.id for d in corpus.documents] == [
        "2014-eastern-syria-offensive",
        "al-hasakah-city-offensive",
    ]
    assert corpus.skipped == []


def test_passages_have_stable_ids_offsets_and_neighbours():
    for document in read_corpus(DEFAULT_CORPUS).documents:
        text = (DEFAULT_CORPUS / document.path).read_text("utf-8")
        for ordinal, passage in enumerate(document.passages):
            assert passage.id == f"{document.id}:{ordinal}"
            assert passage.ordinal == ordinal
            if passage.kind != "infobox":  # infobox text is `Label: value`, from `Key: value`
                assert strip_citations(text[passage.start : passage.end]) == passage.text


def test_citation_marks_are_removed_and_kept():
    passages = list(read_corpus(DEFAULT_CORPUS).passages())
    assert not any("[1]" in p.text or "[35]" in p.text for p in passages)
    clash = next(p for p in passages if "killed three YPG fighters" in p.text)
    assert clash.references == (1, 35)


def test_casualty_fields_are_retrievable_passages():
    passages = list(read_corpus(DEFAULT_CORPUS).passages())
    casualties = [p for p in passages if p.label == "Casualties"]
    assert len(casualties) == 3 and all(p.kind == "infobox" for p in casualties)


def write(folder: Path, name: str, data: bytes) -> None:
    (folder / name).write_bytes(data)


def test_bad_files_are_reported_by_name_and_the_rest_indexed(tmp_path):
    write(tmp_path, "good.txt", b"= Good =\n\nA fine sentence about rivers.\n")
    write(tmp_path, "empty.txt", b"")
    write(tmp_path, "blank.md", b"  \n\n ")
    write(tmp_path, "latin1.txt", "Caf\u00e9 au lait.".encode("latin-1"))
    write(tmp_path, "headings.md", b"# Only a title\n\n## And a section\n")
    write(tmp_path, "binary.txt", b"abc\x00def")
    write(tmp_path, "image.png", b"\x89PNG\r\n")
    corpus = read_corpus(tmp_path)
    assert [d.id for d in corpus.documents] == ["good"]
    reasons = {s.file: s.reason for s in corpus.skipped}
    assert set(reasons) == {"empty.txt", "blank.md", "latin1.txt", "headings.md", "binary.txt"}
    assert reasons["empty.txt"] == "empty file"
    assert "not UTF-8" in reasons["latin1.txt"] and "offset 3" in reasons["latin1.txt"]
    assert "no text" in reasons["headings.md"]


def test_subfolders_are_read_and_hidden_files_ignored(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".git").mkdir()
    write(tmp_path / "sub", "Notes One.md", b"Some notes on things.\n")
    write(tmp_path / ".git", "x.txt", b"hidden\n")
    write(tmp_path, ".hidden.txt", b"hidden\n")
    assert [p.name for p in corpus_files(tmp_path)] == ["Notes One.md"]
    assert read_corpus(tmp_path).documents[0].id == "sub-notes-one"


def test_colliding_ids_are_made_unique(tmp_path):
    write(tmp_path, "a.txt", b"First.\n")
    write(tmp_path, "a.md", b"Second.\n")
    assert sorted(d.id for d in read_corpus(tmp_path).documents) == ["a", "a-2"]


def test_missing_folder_is_a_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        read_corpus(tmp_path / "nope")


def test_fingerprint_changes_with_any_file(tmp_path):
    write(tmp_path, "a.txt", b"One.\n")
    before = fingerprint(tmp_path)
    assert fingerprint(tmp_path) == before
    write(tmp_path, "a.txt", b"Two.\n")  # same size, new content
    assert fingerprint(tmp_path) != before


def test_slugify():
    assert slugify("Al-Hasakah city offensive.txt") == "al-hasakah-city-offensive"
    assert slugify("Siège de Kobanî.md") == "siege-de-kobani"
    assert slugify("???.txt") == "document"
