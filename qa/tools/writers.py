"""SQuAD articles written as web pages, Word documents and PDFs, for `qa eval --format`: what
the readers make of each format is measured against the same articles as plain text.

The PDF writer is fpdf2, a test extra (qa reads PDFs, it never writes them).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

# A font with the accents, dashes and scripts SQuAD's articles hold (Debian: fonts-dejavu-core);
# without one, PDFs are written in Helvetica and lose the characters Latin-1 lacks.
UNICODE_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)


def write_html(title: str, paragraphs: tuple[str, ...], path: Path) -> None:
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    path.write_text(
        f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"</head>\n<body><nav><a href='/'>Home</a></nav>\n<h1>{html.escape(title)}</h1>\n"
        f"{body}\n</body></html>\n",
        "utf-8",
    )


def write_docx(title: str, paragraphs: tuple[str, ...], path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading(title, 0)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(path))


def write_pdf(title: str, paragraphs: tuple[str, ...], path: Path) -> None:
    """A PDF with the title large on its first page, the paragraphs in 11 points, and a running
    header and page number on every page, as printed articles have."""
    try:
        from fpdf import FPDF
    except ImportError as exc:
        raise RuntimeError("writing PDFs needs fpdf2: pip install -e '.[test]'") from exc

    font = next((f for f in UNICODE_FONTS if f.exists()), None)

    class Article(FPDF):
        def header(self) -> None:
            self.set_font(family, size=8)
            self.cell(0, 6, text(title), align="R", new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(family, size=8)
            self.cell(0, 6, f"Page {self.page_no()}", align="C")

    pdf = Article()
    if font:
        pdf.add_font("body", fname=str(font))
        family = "body"
        text: Callable[[str], str] = str
    else:
        family = "Helvetica"

        def text(value: str) -> str:
            return value.encode("latin-1", "replace").decode("latin-1")

    pdf.set_title(text(title))
    pdf.add_page()
    pdf.set_font(family, size=18)
    pdf.multi_cell(0, 9, text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(family, size=11)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 5.5, text(paragraph), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.output(str(path))


WRITERS = {"html": write_html, "docx": write_docx, "pdf": write_pdf}
