"""Passages, and the table that holds a whole corpus of them in arrays.

A million Passage objects take a gigabyte and many seconds to load. The table keeps the texts in
one UTF-8 blob with offsets and every other field in a numpy array, saves them as .npy files that
load memory-mapped, and makes a Passage only when one is asked for.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

import numpy as np

from qa.common import arrays

KINDS = ("prose", "infobox", "list")
COLUMNS = (
    "doc-starts",  # positions, documents + 1: the first row of each document, then the row count
    "text-offsets",  # positions, rows + 1: where each passage's text starts in `text`
    "text",  # uint8: every passage's text, UTF-8, end to end
    "kind",  # uint8: an index into KINDS
    "section",  # codes: an index into the table's strings, -1 for none
    "label",  # codes: an index into the table's strings, -1 for none
    "span",  # positions, rows x 2: start and end in the document's file (a PDF's: on its page)
    "page",  # codes: the 1-based page of a paged document (PDF), -1 for none
    "opens",  # uint8: 1 for a passage that opens a paragraph (every passage but prose's next)
    "ref-offsets",  # positions, rows + 1: where each passage's references start in `refs`
    "refs",  # int32: every passage's reference numbers, end to end
)
OFFSETS = ("doc-starts", "text-offsets", "ref-offsets")
# Saved as int32 while they fit (see arrays.positions); int64 while a table is being built.
POSITIONS = (*OFFSETS, "span")
STRING_CODES = ("section", "label")
PREFIX = "passages-"


def passage_id(document: str, ordinal: int) -> str:
    """The id of a document's passage: `al-hasakah-city-offensive:12`."""
    return f"{document}:{ordinal}"


def parse_passage_id(text: str) -> tuple[str, int] | None:
    """The document and ordinal of a passage id, or None when it is not one."""
    document, _, ordinal = text.rpartition(":")
    if not document or not ordinal.isdigit():
        return None
    return document, int(ordinal)


@dataclass(frozen=True)
class Passage:
    """The unit of retrieval: a sentence, an infobox field or a list item."""

    id: str
    document: str
    ordinal: int
    kind: str
    section: str | None
    text: str
    start: int
    end: int
    references: tuple[int, ...] = ()
    label: str | None = None
    # A PDF's page, counted from 1; `start` and `end` are then offsets in that page's text.
    page: int | None = None
    # Whether it opens a paragraph: false for a sentence after the first of its paragraph.
    opens: bool = True


class PassageTable(Sequence[Passage]):
    """Every passage of a corpus, row by row in document order, stored in columns."""

    def __init__(
        self, columns: Mapping[str, np.ndarray], strings: list[str], doc_ids: list[str]
    ) -> None:
        self.columns = dict(columns)
        self.strings = strings
        self.doc_ids = doc_ids
        self.doc_starts = self.columns["doc-starts"]
        if len(self.doc_starts) != len(doc_ids) + 1 or self.doc_starts[-1] != len(self):
            raise ValueError("passage table and documents disagree")

    @classmethod
    def from_documents(cls, documents: Sequence) -> PassageTable:
        """The table of documents that hold their passages (objects with .id and .passages)."""
        passages = [p for d in documents for p in d.passages]
        strings: dict[str, int] = {}

        def code(value: str | None) -> int:
            return -1 if value is None else strings.setdefault(value, len(strings))

        texts = [p.text.encode() for p in passages]
        kinds = {kind: i for i, kind in enumerate(KINDS)}
        columns = {
            "doc-starts": _offsets(len(d.passages) for d in documents),
            "text-offsets": _offsets(map(len, texts)),
            "text": np.frombuffer(b"".join(texts), np.uint8),
            "kind": np.array([kinds[p.kind] for p in passages], np.uint8),
            "section": np.array([code(p.section) for p in passages], np.int32),
            "label": np.array([code(p.label) for p in passages], np.int32),
            # Pairs flattened: numpy makes an array of a list of tuples many times slower.
            "span": np.fromiter(
                itertools.chain.from_iterable(map(attrgetter("start", "end"), passages)),
                np.int64,
                2 * len(passages),
            ).reshape(-1, 2),
            "page": np.array([-1 if p.page is None else p.page for p in passages], np.int32),
            "opens": np.array([p.opens for p in passages], np.uint8),
            "ref-offsets": _offsets(len(p.references) for p in passages),
            "refs": np.fromiter(
                itertools.chain.from_iterable(p.references for p in passages), np.int32
            ),
        }
        return cls(columns, list(strings), [d.id for d in documents])

    @classmethod
    def concat(cls, tables: Sequence[PassageTable], doc_ids: list[str]) -> PassageTable:
        """The tables one after the other, their documents renamed to `doc_ids`."""
        columns, strings = _joined(tables or [cls.from_documents([])], COLUMNS)
        return cls(columns, strings, doc_ids)

    def select(self, documents: Sequence[int]) -> PassageTable:
        """The table of some of its documents, in the order given."""
        starts = self.doc_starts
        bounds = [(int(starts[d]), int(starts[d + 1])) for d in documents]
        rows = np.concatenate([np.zeros(0, np.int64)] + [np.arange(a, b) for a, b in bounds])
        c = self.columns
        columns = {name: c[name][rows] for name in COLUMNS if name not in (*OFFSETS, "refs")}
        columns["doc-starts"] = _offsets(b - a for a, b in bounds)
        for offsets, values in (("text-offsets", "text"), ("ref-offsets", "refs")):
            columns[offsets], columns[values] = _gathered(c[offsets], c[values], rows)
        return PassageTable(columns, self.strings, [self.doc_ids[d] for d in documents])

    def text(self, row: int) -> str:
        """The text of a row's passage."""
        offsets = self.columns["text-offsets"]
        return self.columns["text"][offsets[row] : offsets[row + 1]].tobytes().decode("utf-8")

    def texts(self, rows: Sequence[int]) -> list[str]:
        """The texts of some rows' passages."""
        offsets = self.columns["text-offsets"]
        rows = np.asarray(rows, np.intp)
        text = memoryview(self.columns["text"])  # decoded in place, never copied
        starts, ends = offsets[rows].tolist(), offsets[rows + 1].tolist()
        return [str(text[a:b], "utf-8") for a, b in zip(starts, ends, strict=True)]

    def rows_at(self, byte_offsets: Sequence[int]) -> np.ndarray:
        """The rows whose texts hold these offsets into the `text` column, in order."""
        starts = self.columns["text-offsets"][:-1]
        return np.unique(np.searchsorted(starts, byte_offsets, "right") - 1)

    def save(self, folder: Path) -> list[str]:
        """Writes the columns as .npy files, returning their names; strings and ids go elsewhere."""
        columns = {name: _narrowed(name, column) for name, column in self.columns.items()}
        return arrays.save(folder, {PREFIX + name: columns[name] for name in COLUMNS})

    @classmethod
    def load(cls, folder: Path, strings: list[str], doc_ids: list[str]) -> PassageTable:
        """The saved table, memory-mapped; ValueError or OSError when it is damaged."""
        loaded = arrays.load(folder, [PREFIX + name for name in COLUMNS])
        table = cls({name: loaded[PREFIX + name] for name in COLUMNS}, strings, doc_ids)
        table._check()
        return table

    def _check(self) -> None:
        rows, c = len(self), self.columns
        if not (
            len(c["text-offsets"]) == len(c["ref-offsets"]) == rows + 1
            and len(c["section"]) == len(c["label"]) == len(c["span"]) == len(c["page"]) == rows
            and len(c["opens"]) == rows
            and c["text-offsets"][-1] == len(c["text"])
            and c["ref-offsets"][-1] == len(c["refs"])
        ):
            raise ValueError("passage columns disagree")

    def __len__(self) -> int:
        return len(self.columns["kind"])

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        document = int(np.searchsorted(self.doc_starts, row, "right")) - 1
        return self._passage(row, document)

    def __iter__(self) -> Iterator[Passage]:
        for document in range(len(self.doc_ids)):
            yield from self.document(document)

    def document(self, index: int) -> DocumentPassages:
        """The passages of the index-th document."""
        return DocumentPassages(self, index)

    def _passage(self, row: int, document: int) -> Passage:
        c = self.columns
        text_start, text_end = c["text-offsets"][row : row + 2].tolist()
        ref_start, ref_end = c["ref-offsets"][row : row + 2].tolist()
        start, end = c["span"][row].tolist()
        page = int(c["page"][row])
        doc_id = self.doc_ids[document]
        ordinal = row - int(self.doc_starts[document])
        return Passage(
            passage_id(doc_id, ordinal),
            doc_id,
            ordinal,
            KINDS[c["kind"][row]],
            self._string(c["section"][row]),
            c["text"][text_start:text_end].tobytes().decode("utf-8"),
            start,
            end,
            tuple(c["refs"][ref_start:ref_end].tolist()),
            self._string(c["label"][row]),
            None if page < 0 else page,
            bool(c["opens"][row]),
        )

    def _string(self, code: int) -> str | None:
        return None if code < 0 else self.strings[code]


# The columns a JoinedTable joins; texts and references stay in each part's own arrays.
JOINED = ("doc-starts", "kind", "section", "label", "span", "page", "opens")


class JoinedTable(PassageTable):
    """Tables one after the other, as one (the segments of an index): the narrow columns joined,
    each passage's text and references read from its own part's arrays, never copied."""

    def __init__(self, parts: Sequence[PassageTable]) -> None:
        self.parts = list(parts)
        self.row_bases = np.cumsum([0] + [len(p) for p in self.parts])
        self.doc_bases = np.cumsum([0] + [len(p.doc_ids) for p in self.parts])
        columns, strings = _joined(self.parts, JOINED)
        super().__init__(columns, strings, [i for p in self.parts for i in p.doc_ids])

    def save(self, folder: Path) -> list[str]:
        raise TypeError("a joined table is saved part by part")

    def text(self, row: int) -> str:
        part = int(np.searchsorted(self.row_bases, row, "right")) - 1
        return self.parts[part].text(row - int(self.row_bases[part]))

    def texts(self, rows: Sequence[int]) -> list[str]:
        rows = np.asarray(rows, np.intp)
        if not len(rows):
            return []
        parts = np.searchsorted(self.row_bases, rows, "right") - 1
        local = rows - self.row_bases[parts]
        # Part by part, then back in the order asked.
        order = np.argsort(parts, kind="stable")
        present, starts = np.unique(parts[order], return_index=True)
        groups = np.split(local[order], starts[1:])
        texts = [
            t for p, g in zip(present.tolist(), groups, strict=True) for t in self.parts[p].texts(g)
        ]
        return list(map(texts.__getitem__, np.argsort(order).tolist()))

    def _passage(self, row: int, document: int) -> Passage:
        part = int(np.searchsorted(self.doc_bases, document, "right")) - 1
        table = self.parts[part]
        return table._passage(row - int(self.row_bases[part]), document - int(self.doc_bases[part]))


class DocumentPassages(Sequence[Passage]):
    """One document's passages: a view of its rows of the table."""

    def __init__(self, table: PassageTable, document: int) -> None:
        self.table, self.index = table, document
        self.start, self.stop = table.doc_starts[document : document + 2].tolist()

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, ordinal):
        if isinstance(ordinal, slice):
            return [self[i] for i in range(*ordinal.indices(len(self)))]
        if ordinal < 0:
            ordinal += len(self)
        if not 0 <= ordinal < len(self):
            raise IndexError(ordinal)
        return self.table._passage(self.start + ordinal, self.index)

    def __iter__(self) -> Iterator[Passage]:
        for row in range(self.start, self.stop):
            yield self.table._passage(row, self.index)


def _joined(
    tables: Sequence[PassageTable], names: Sequence[str]
) -> tuple[dict[str, np.ndarray], list[str]]:
    """The named columns of tables one after the other, in one list of strings."""
    strings: dict[str, int] = {}
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for table in tables:
        # The extra -1 at the end maps "none" (-1) to itself.
        remap = np.array(
            [strings.setdefault(s, len(strings)) for s in table.strings] + [-1], np.int32
        )
        for name in names:
            column = table.columns[name]
            parts[name].append(remap[column] if name in STRING_CODES else column)
    columns = {
        name: _join_offsets(parts[name]) if name in OFFSETS else np.concatenate(parts[name])
        for name in names
    }
    return columns, list(strings)


def _gathered(
    offsets: np.ndarray, values: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The offsets and values of some rows of a ragged column (values[offsets[r]:offsets[r+1]])."""
    lengths = (offsets[1:] - offsets[:-1])[rows].astype(np.int64)
    new = _offsets(lengths)
    at = np.repeat(offsets[rows].astype(np.int64) - new[:-1], lengths) + np.arange(new[-1])
    return new, values[at]


def _narrowed(name: str, column: np.ndarray) -> np.ndarray:
    """A column as saved: positions, string codes and pages in the fewest bytes that hold them."""
    if name in POSITIONS:
        return arrays.positions(column)
    if name in (*STRING_CODES, "page"):
        return arrays.codes(column)
    return column


def _offsets(lengths: Iterable[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(np.fromiter(lengths, np.int64))]).astype(np.int64)


def _join_offsets(parts: list[np.ndarray]) -> np.ndarray:
    """Offset arrays of consecutive pieces as one: each piece shifted by the ones before it."""
    joined, total = [np.zeros(1, np.int64)], 0
    for offsets in parts:
        joined.append(offsets[1:] + total)
        total += int(offsets[-1])
    return np.concatenate(joined).astype(np.int64)
