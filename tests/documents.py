"""Real files of every format the readers take, written by the libraries people write them with:
python-docx for Word, fpdf2 for PDF (a test extra)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
from fpdf import FPDF

# The PDF's sentences: one over two lines, one broken by a page break, a hyphenated line end.
LONG = (
    "The old stone bridge over the river Wend was rebuilt after the flood of 1911, with three "
    "arches of granite that still carry the road to the market town today."
)
BEFORE_BREAK = "The ferry across the estuary was replaced in"
AFTER_BREAK = "1887 by a steam launch that the harbour board bought in Leith."
HYPHENATED = ("The survey counted the mill-", "wrights of the upper valley in 1902.")
LAST = "The last mill closed in 1958 and is now a museum of milling."
HEADER = "Rivers of the Wend valley - draft report"


def pdf_bytes(title: str | None = "Rivers of the Wend", large_title: bool = True) -> bytes:
    """Three pages with a running header and page numbers, a large title on the first (and
    `title` in the metadata, unless None)."""

    class Report(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, HEADER, new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, str(self.page_no()), align="C")

    pdf = Report()
    if title:
        pdf.set_title(title)
    pdf.add_page()
    if large_title:
        pdf.set_font("Helvetica", size=20)
        pdf.cell(0, 12, "The Wend and its bridges", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, LONG, new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, BEFORE_BREAK, new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    pdf.multi_cell(0, 6, AFTER_BREAK, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=16)
    pdf.cell(0, 10, "Mills", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for line in HYPHENATED:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    pdf.multi_cell(0, 6, LAST, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def blank_pdf(pages: int, text: str | None = None) -> bytes:
    """`pages` pages, each with `text` or, when None, only a drawn rectangle (as a scan has no
    text)."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for _ in range(pages):
        pdf.add_page()
        if text is None:
            pdf.rect(20, 20, 100, 60, style="F")
        else:
            pdf.cell(0, 6, text)
    return bytes(pdf.output())


def encrypted_pdf() -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.cell(0, 6, "A secret sentence about rivers.")
    pdf.set_encryption(owner_password="owner", user_password="reader")
    return bytes(pdf.output())


def docx_bytes() -> bytes:
    """A Word report: a title, two headed sections, prose, a bulleted list and a table."""
    document = docx.Document()
    document.add_heading("Harbour works", 0)
    document.add_paragraph("The harbour was dredged in 1904. The quay was lengthened in 1910.")
    document.add_heading("Ships", 1)
    document.add_paragraph("Steam launch Wend", style="List Bullet")
    document.add_paragraph("Sailing barge Mary", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("Ship", "Built"), ("Wend", "1887")], strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.add_heading("Trade", 2)
    document.add_paragraph("Coal left the harbour for Leith every week.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


HTML = """<!doctype html>
<html><head><title>Canal &amp; locks</title><style>p { color: red }</style>
<script>document.write("SCRIPTED TEXT")</script></head>
<body>
<nav><a href="/">Home</a> <a href="/more">More navigation</a></nav>
<h1>Canal &amp; locks</h1>
<p>The canal opened in 1794.   It   has&nbsp;twelve
locks.<script>alert("NOT TEXT")</script></p>
<div hidden>Hidden words never shown.</div>
<p style="display: none">Invisible words never shown.</p>
<h2>Boats</h2>
<ul><li>Narrow boats &ndash; horse drawn</li><li>Wide <b>barges</b></li></ul>
<table><tr><th>Lock</th><th>Rise</th></tr><tr><td>Top lock</td><td>2.4 m</td></tr></table>
<h3>Today</h3>
<p>Pleasure boats use it now.</p>
</body></html>
"""

MARKDOWN = """# Mill notes

The mill was built in 1802. It ground corn until 1958.

## Machines

- A water wheel of oak
- Two pairs of *millstones*

| Part | Made |
| --- | --- |
| Wheel | 1802 |

```python
print("code is not a sentence")
```

    indented code is not one either

Final words about the *mill* race.
"""


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, "utf-8")
    else:
        path.write_bytes(data)
    return path


def zip_of(entries: dict[str, bytes]) -> bytes:
    """A zip file of these entries, for Word files that are not what they say."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()
