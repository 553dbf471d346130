"""The readers on real files of every format: titles, sections, passages, pages and offsets,
and every kind of bad input reported by name while the rest is indexed."""

from __future__ import annotations

import shutil

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner

from qa.answer.engine import Engine
from qa.answer.model import as_json
from qa.cli import main
from qa.index import build as build_module
from qa.index.build import indexed_tokens, read_and_count, read_corpus
from qa.ingest.corpus import fingerprint
from tests import documents
from tests.documents import HTML, MARKDOWN, docx_bytes, pdf_bytes, write, zip_of
from tests.helpers import DEFAULT_CORPUS

SUPPORTED = "not a supported type (.txt .md .html .htm .pdf .docx)"


def read_one(tmp_path, name: str, data: bytes | str):
    write(tmp_path, name, data)
    corpus = read_corpus(tmp_path)
    assert corpus.skipped == [], corpus.skipped
    [document] = corpus.documents
    return document


def page_texts(data: bytes) -> list[str]:
    """Each page's text as PDFium gives it: what a PDF passage's offsets count in."""
    pdf = pdfium.PdfDocument(data)
    try:
        return [pdf[n].get_textpage().get_text_range() for n in range(len(pdf))]
    finally:
        pdf.close()


def squeezed(text: str) -> str:
    return " ".join(text.split())


def test_pdf_title_sections_sentences_and_pages(tmp_path):
    data = pdf_bytes()
    document = read_one(tmp_path, "report.pdf", data)
    assert document.title == "Rivers of the Wend"  # the metadata's
    assert document.sections == ["Mills"]
    texts = [p.text for p in document.passages]
    assert texts == [
        documents.LONG,  # over two lines: one sentence
        f"{documents.BEFORE_BREAK} {documents.AFTER_BREAK}",  # across the page break
        "The survey counted the millwrights of the upper valley in 1902.",  # hyphen undone
        documents.LAST,
    ]
    assert [p.page for p in document.passages] == [1, 1, 2, 3]
    assert [p.section for p in document.passages] == [None, None, "Mills", "Mills"]
    # Running headers, page numbers and the title line are no passage's text.
    assert not any(documents.HEADER in t or "The Wend and its bridges" in t for t in texts)


def test_pdf_offsets_are_on_the_page(tmp_path):
    data = pdf_bytes()
    pages = page_texts(data)
    document = read_one(tmp_path, "report.pdf", data)
    one_line = document.passages[0]
    page = pages[one_line.page - 1]
    assert squeezed(page[one_line.start : one_line.end]) == one_line.text
    # A sentence going on to the next page ends past its page's end, counting on into the next.
    crossing = document.passages[1]
    first, second = pages[0], pages[1]
    assert crossing.start < len(first) < crossing.end
    assert first[crossing.start :].startswith(documents.BEFORE_BREAK)
    rest = second[: crossing.end - len(first)]
    assert rest.endswith(documents.AFTER_BREAK)
    assert pages[2][document.passages[3].start : document.passages[3].end] == documents.LAST


def test_pdf_title_is_the_first_large_line_without_metadata(tmp_path):
    document = read_one(tmp_path, "report.pdf", pdf_bytes(title=None))
    assert document.title == "The Wend and its bridges"
    untitled = read_one(tmp_path / "b", "field-notes.pdf", pdf_bytes(None, large_title=False))
    assert untitled.title == "field notes"  # the file's name


# A Word report and a web page: their titles, sections and passages (kind, section, text).
EXTRACTED = {
    "harbour.docx": (
        docx_bytes(),
        "Harbour works",
        ["Ships", "Trade"],
        [
            ("prose", None, "The harbour was dredged in 1904."),
            ("prose", None, "The quay was lengthened in 1910."),
            ("list", "Ships", "Steam launch Wend"),
            ("list", "Ships", "Sailing barge Mary"),
            ("list", "Ships", "Ship | Built"),
            ("list", "Ships", "Wend | 1887"),
            ("prose", "Trade", "Coal left the harbour for Leith every week."),
        ],
    ),
    # Script, style, navigation and hidden elements are gone; entities and spaces normalised.
    "canal.html": (
        HTML,
        "Canal & locks",
        ["Boats", "Today"],
        [
            ("prose", None, "The canal opened in 1794."),
            ("prose", None, "It has twelve locks."),
            ("list", "Boats", "Narrow boats – horse drawn"),
            ("list", "Boats", "Wide barges"),
            ("list", "Boats", "Lock | Rise"),
            ("list", "Boats", "Top lock | 2.4 m"),
            ("prose", "Today", "Pleasure boats use it now."),
        ],
    ),
}


@pytest.mark.parametrize("name", EXTRACTED)
def test_word_and_html_titles_sections_and_passages_in_order(tmp_path, name):
    data, title, sections, rows = EXTRACTED[name]
    document = read_one(tmp_path, name, data)
    assert (document.title, document.sections) == (title, sections)
    assert [(p.kind, p.section, p.text) for p in document.passages] == rows
    assert all(p.page is None for p in document.passages)
    # Offsets into the extracted text: the blocks end to end, a blank line between two, so each
    # passage spans its own text, a sentence one space after the one before it in its block.
    passages = list(document.passages)
    assert passages[0].start == 0
    assert all(p.end - p.start == len(p.text) for p in passages)
    gaps = [b.start - a.end for a, b in zip(passages, passages[1:], strict=False)]
    assert gaps == [1] + [2] * (len(passages) - 2)  # two sentences, then a block each


def test_markdown_headings_lists_tables_and_no_code(tmp_path):
    document = read_one(tmp_path, "mill.md", MARKDOWN)
    assert document.title == "Mill notes"
    assert document.sections == ["Machines"]
    texts = [(p.kind, p.text) for p in document.passages]
    assert texts == [
        ("prose", "The mill was built in 1802."),
        ("prose", "It ground corn until 1958."),
        ("list", "A water wheel of oak"),
        ("list", "Two pairs of millstones"),
        ("list", "Part | Made"),
        ("list", "Wheel | 1802"),
        ("prose", "Final words about the mill race."),
    ]


def test_wiki_style_markdown_keeps_the_wiki_parser(tmp_path):
    text = "= Dam =\n\nInfobox dam\n- Height: 40 m\n\n== History ==\n\nIt was built in 1930.[2]\n"
    document = read_one(tmp_path, "dam.md", text)
    assert document.title == "Dam" and document.sections == ["History"]
    assert [(p.kind, p.text, p.references) for p in document.passages] == [
        ("infobox", "Height: 40 m", ()),
        ("prose", "It was built in 1930.", (2,)),
    ]


def test_html_full_of_script_is_never_run_and_has_no_text(tmp_path):
    script = "<script>require('fs').writeFileSync('ran', 'x'); document.write('words')</script>"
    write(tmp_path, "scripts.html", f"<html><body>{script * 200}</body></html>")
    write(tmp_path, "good.txt", "A sentence about rivers.\n")
    corpus = read_corpus(tmp_path)
    assert [d.id for d in corpus.documents] == ["good"]
    assert [(s.file, s.reason) for s in corpus.skipped] == [
        ("scripts.html", "no text to index (only headings or markup)")
    ]
    assert not (tmp_path / "ran").exists()


def test_bad_files_each_get_their_reason_and_the_rest_is_indexed(tmp_path, monkeypatch):
    monkeypatch.setenv("QA_MAX_UNPACKED_MB", "1")
    good_docx = docx_bytes()
    bad = {
        "encrypted.pdf": (documents.encrypted_pdf(), "encrypted PDF: it needs a password"),
        "scan.pdf": (documents.blank_pdf(2), "no text layer; scanned PDFs need OCR first"),
        "cut.pdf": (pdf_bytes()[:1500], "damaged or truncated PDF"),
        "junk.pdf": (b"%PDF-1.7 nothing more", "damaged or truncated PDF"),
        "cut.docx": (good_docx[: len(good_docx) // 2], "not a Word document: not a zip"),
        "notword.docx": (zip_of({"hello.txt": b"hi"}), "without word/document.xml"),
        "bomb.docx": (
            zip_of({"word/document.xml": b"<w/>", "word/media/x.bin": bytes(5 << 20)}),
            "unpacks to 5 MB, over the limit of 1 MB (QA_MAX_UNPACKED_MB)",
        ),
        "badxml.docx": (
            zip_of({"[Content_Types].xml": b"<", "word/document.xml": b"<"}),
            "damaged Word document",
        ),
        "photo.png": (b"\x89PNG\r\n\x1a\n", SUPPORTED),
    }
    for name, (data, _) in bad.items():
        write(tmp_path, name, data)
    write(tmp_path, "good.docx", good_docx)
    write(tmp_path, "good.pdf", pdf_bytes())
    corpus = read_corpus(tmp_path)
    assert sorted(d.path for d in corpus.documents) == ["good.docx", "good.pdf"]
    reasons = {s.file: s.reason for s in corpus.skipped + corpus.unsupported}
    assert set(reasons) == set(bad)
    for name, (_, reason) in bad.items():
        assert reason in reasons[name], (name, reasons[name])
    assert reasons["photo.png"] == SUPPORTED


def test_page_limit(tmp_path, monkeypatch):
    write(tmp_path, "book.pdf", documents.blank_pdf(2000, "A page of a long book."))
    write(tmp_path, "short.pdf", documents.blank_pdf(3, "A page of a short book."))
    corpus = read_corpus(tmp_path)
    assert [d.path for d in corpus.documents] == ["short.pdf"]
    assert [s.reason for s in corpus.skipped] == [
        "2,000 pages, over the limit of 1,000 (QA_MAX_PAGES)"
    ]
    monkeypatch.setenv("QA_MAX_PAGES", "2")
    assert [s.reason for s in read_corpus(tmp_path).skipped][-1] == (
        "3 pages, over the limit of 2 (QA_MAX_PAGES)"
    )


def mixed_folder(folder):
    """The two default articles beside a web page, a PDF, a Word file and a photo."""
    shutil.copytree(DEFAULT_CORPUS, folder)
    write(folder, "report.html", HTML)
    write(folder, "paper.pdf", pdf_bytes())
    write(folder, "harbour.docx", docx_bytes())
    write(folder, "photo.png", b"\x89PNG\r\n\x1a\n")
    return folder


def test_qa_index_names_what_it_skips(tmp_path):
    corpus = mixed_folder(tmp_path / "corpus")
    result = CliRunner().invoke(
        main, ["index", "--corpus", str(corpus), "--index", str(tmp_path / "index")]
    )
    assert result.exit_code == 0, result.output
    assert "Indexed 5 documents" in result.output
    assert f"Skipped photo.png: {SUPPORTED}" in result.output


def test_a_pdf_citation_carries_its_page(tmp_path):
    engine = Engine.open(mixed_folder(tmp_path / "corpus"), tmp_path / "index")
    assert engine.stats()["skipped"] == [{"file": "photo.png", "reason": SUPPORTED}]
    answer = as_json(engine.ask("When was the ferry across the estuary replaced?", k=3))
    first = answer["citations"][0]
    assert first["document"]["id"] == "paper" and first["page"] == 1
    assert "1887" in first["text"]
    others = [c for c in answer["citations"] if c["document"]["id"] != "paper"]
    assert all(c["page"] is None for c in others)
    view = as_json(engine.library.view("paper"))
    assert [p["page"] for p in view["passages"]] == [1, 1, 2, 3]
    # Loaded again from disk, the pages are what was saved.
    again = Engine.open(tmp_path / "corpus", tmp_path / "index")
    assert again.version_dir == engine.version_dir
    assert as_json(again.library.view("paper")) == view


def test_an_unsupported_file_added_is_seen_as_a_change(tmp_path):
    folder = mixed_folder(tmp_path / "corpus")
    before = fingerprint(folder)
    write(folder, "notes.odt", b"PK")
    assert fingerprint(folder) != before
    (folder / ".hidden.png").write_bytes(b"x")
    write(folder / ".cache", "x.pdf", b"x")
    corpus = read_corpus(folder)
    assert [s.file for s in corpus.unsupported] == ["notes.odt", "photo.png"]


def test_parallel_reading_of_every_format_gives_what_serial_reading_gives(tmp_path, monkeypatch):
    for copy in range(2):
        mixed_folder(tmp_path / f"part{copy}")
    write(tmp_path / "part1", "scan.pdf", documents.blank_pdf(1))
    monkeypatch.setattr(build_module, "CHUNK_BYTES", 1)  # a chunk per file, for the workers
    serial, serial_counts = read_and_count(tmp_path, indexed_tokens, workers=1)
    parallel, parallel_counts = read_and_count(tmp_path, indexed_tokens, workers=2)
    assert [d.id for d in parallel.documents] == [d.id for d in serial.documents]
    assert parallel.skipped == serial.skipped and len(serial.skipped) == 1
    assert parallel.unsupported == serial.unsupported and len(serial.unsupported) == 2
    assert list(parallel.passages()) == list(serial.passages())
    assert any(p.page == 2 for p in serial.passages())
    assert parallel_counts.terms == serial_counts.terms
    assert parallel.fingerprint == serial.fingerprint == fingerprint(tmp_path)


@pytest.mark.parametrize("name", ["notes.htm", "NOTES.HTML"])
def test_suffixes_are_read_whatever_their_case(tmp_path, name):
    assert read_one(tmp_path, name, HTML).title == "Canal & locks"
