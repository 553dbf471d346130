"""Web pages, parsed by selectolax (Lexbor): nothing in them runs, script is never text.

<title> (else the first <h1>) is the title, <h2>-<h6> are sections; paragraphs, list items
and table rows are passages. Script, style, navigation and hidden elements are dropped.
"""

from __future__ import annotations

import codecs
import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from qa.ingest.parse import ParsedDocument
from qa.ingest.readers.blocks import Extract, squeeze

# Never text a reader of the page sees.
DROPPED = {
    "script", "style", "noscript", "template", "nav", "head", "iframe", "object", "embed",
    "svg", "math", "canvas", "select", "textarea", "button", "input", "audio", "video",
}  # fmt: skip
# Elements that end the text before them and start their own.
BLOCKS = {
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "li", "main", "ol", "p", "pre", "section", "summary",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
HEADINGS = {f"h{n}": n for n in range(1, 7)}
# The innermost of these that holds a text says what it is; a <p> in a <li> is the item's.
HOLDERS = {**HEADINGS, "li": "list", "dt": "list", "dd": "list", "td": "cell", "th": "cell"}
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)


def read(data: bytes, fallback_title: str) -> ParsedDocument:
    tree = LexborHTMLParser(decode_html(data))
    extract = Extract(fallback_title)
    title = tree.css_first("title")
    if title is not None:
        extract.title = squeeze(title.text()) or None
    if tree.body is not None:
        _walk(tree.body, extract)
    return extract.document()


def decode_html(data: bytes) -> str:
    """The page's text: UTF-8 (or its BOM's encoding), else the charset its <meta> names, else
    Windows-1252, which browsers assume for a page that says nothing."""
    for bom, encoding in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding, "replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    named = META_CHARSET.search(data[:4096])
    if named:
        try:
            return data.decode(named.group(1).decode("ascii"), "replace")
        except LookupError:
            pass
    return data.decode("cp1252", "replace")


def _hidden(node: LexborNode) -> bool:
    attributes = node.attributes
    return (
        "hidden" in attributes
        or (attributes.get("aria-hidden") or "").lower() == "true"
        or bool(HIDDEN_STYLE.search(attributes.get("style") or ""))
    )


def _walk(body: LexborNode, extract: Extract) -> None:
    """The body's texts in document order; a stack, not recursion, for deeply nested pages."""
    text: list[str] = []
    holders: list[str] = []  # the open elements of HOLDERS, innermost last
    rows: list[list[str]] = []  # the cells of each open table row

    def flush() -> None:
        joined = squeeze("".join(text))
        text.clear()
        if not joined:
            return
        holder = holders[-1] if holders else None
        if holder in HEADINGS:
            extract.heading(joined, HEADINGS[holder])
        elif holder in ("td", "th") and rows:
            rows[-1].append(joined)
        else:
            extract.add("list" if holder else "prose", joined)

    stack: list[tuple[LexborNode, bool]] = [(body, False)]
    while stack:
        node, leaving = stack.pop()
        tag = node.tag
        if leaving:
            flush()
            if tag in HOLDERS:
                holders.pop()
            if tag == "tr" and rows:
                extract.row(rows.pop())
            continue
        if tag == "-text":
            text.append(node.text_content or "")
            continue
        if tag is None or tag.startswith("-") or tag in DROPPED or _hidden(node):
            continue  # comments, doctypes, and what no one sees
        if tag == "br":
            text.append(" ")
            continue
        if tag in BLOCKS:
            flush()
            if tag in HOLDERS:
                holders.append(tag)
            if tag == "tr":
                rows.append([])
            stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(node.iter(include_text=True))))
