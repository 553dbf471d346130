"""Plain text and the wiki style of the default corpus (`= Title =`, `== Section ==`, infoboxes,
lists, citation marks), parsed by qa.ingest.parse as ever."""

from __future__ import annotations

from qa.ingest.parse import ParsedDocument, parse_document


def read(data: bytes, fallback_title: str) -> ParsedDocument:
    return parse_document(decode_text(data), fallback_title)


def decode_text(data: bytes) -> str:
    """A file's text; ValueError with a reader's explanation when it cannot be used."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
        ) from exc
    if "\x00" in text:
        raise ValueError("binary content (NUL bytes), not a text document")
    return text
