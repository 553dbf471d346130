"""Word documents (.docx), read by python-docx in document order: the Title style (else the
document's title property) is the title, Heading styles are sections, and paragraphs, list items
and table rows are passages."""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree

from qa.ingest.parse import ParsedDocument
from qa.ingest.readers.blocks import Extract
from qa.settings import Settings

HEADING_STYLE = re.compile(r"heading\s*(\d)", re.IGNORECASE)
MB = 1024 * 1024


def read(data: bytes, fallback_title: str) -> ParsedDocument:
    check_package(data, Settings.from_env().max_unpacked)
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, etree.Error) as exc:
        raise ValueError(f"damaged Word document ({exc})") from exc
    extract = Extract(fallback_title)
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                extract.row(_cells(row))
        else:
            _paragraph(item, extract)
    extract.title = extract.title or (document.core_properties.title or "").strip() or None
    return extract.document()


def check_package(data: bytes, limit: int) -> None:
    """ValueError unless the bytes are a zip that holds word/document.xml and unpacks to at most
    `limit` bytes.

    The sizes a zip declares are what zipfile reads at most (it stops there and checks the
    CRC), so adding them up bounds what reading the document can unpack.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ValueError(
            "not a Word document: not a zip archive (truncated, or an old .doc?)"
        ) from exc
    with archive:
        entries = archive.infolist()
        if not any(entry.filename == "word/document.xml" for entry in entries):
            raise ValueError("a zip archive without word/document.xml, not a Word document")
        unpacked = sum(entry.file_size for entry in entries)
    if unpacked > limit:
        raise ValueError(
            f"unpacks to {unpacked / MB:,.0f} MB, over the limit of {limit / MB:,.0f} MB "
            "(QA_MAX_UNPACKED_MB)"
        )


def _paragraph(paragraph: Paragraph, extract: Extract) -> None:
    style = paragraph.style.name if paragraph.style is not None else ""
    heading = HEADING_STYLE.fullmatch(style or "")
    if style == "Title":
        extract.heading(paragraph.text, 1)
    elif heading:
        # Heading 1 is a section: a Word document's title has a style of its own.
        extract.heading(paragraph.text, int(heading.group(1)) + 1)
    elif _is_list_item(paragraph, style):
        extract.add("list", paragraph.text)
    else:
        extract.add("prose", paragraph.text)


def _is_list_item(paragraph: Paragraph, style: str) -> bool:
    properties = paragraph._p.pPr
    numbered = properties is not None and properties.numPr is not None
    return numbered or style.startswith("List")


def _cells(row) -> list[str]:
    """The row's cells, a merged cell once (python-docx gives it for every column it spans)."""
    cells, last = [], None
    for cell in row.cells:
        if cell._tc is not last:
            cells.append(cell.text)
        last = cell._tc
    return cells
