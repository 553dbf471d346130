"""The corpus as readers browse it: its documents, a document's passages, a passage by id or row."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from itertools import compress

import numpy as np

from qa.answer.model import DocumentSummary, DocumentView, PassageView
from qa.common.memo import Memo
from qa.ingest.corpus import Corpus, Document
from qa.ingest.passages import Passage, parse_passage_id
from qa.text.analyze import fold

CITED_PASSAGES = 4096


class Library:
    """A loaded corpus's documents and passages, found by id, row or title."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        # Passages are made from the saved arrays when asked for, never all at once; those
        # cited (and their neighbours, shown as context) are remembered.
        self.passages: Sequence[Passage] = corpus.table
        self._by_row = Memo(corpus.table.__getitem__, CITED_PASSAGES)
        self._documents = {d.id: d for d in corpus.documents}
        # Each document's passages view its rows of the table (see PassageTable.document).
        self._rows = {d.id: slice(d.passages.start, d.passages.stop) for d in corpus.documents}

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._documents

    def get(self, doc_id: str) -> Document:
        """The document of an id; KeyError if unknown."""
        return self._documents[doc_id]

    def rows(self, doc_id: str) -> slice:
        """The document's rows in the passage table; KeyError if unknown."""
        return self._rows[doc_id]

    def mask(self, doc_ids: Sequence[str]) -> np.ndarray:
        """Which rows belong to the documents; KeyError for an unknown id."""
        mask = np.zeros(len(self.corpus.table), dtype=bool)
        for doc_id in doc_ids:
            mask[self._rows[doc_id]] = True
        return mask

    def collection(self, doc_id: str) -> str | None:
        """The collection of a document: the corpus's top-level folder it is in, if any."""
        return collection_of(self._documents[doc_id].path)

    @cached_property
    def collections(self) -> dict[str, list[str]]:
        """Each collection's documents, in corpus order; collections sorted by name."""
        found: dict[str, list[str]] = {}
        for document in self.corpus.documents:
            name = collection_of(document.path)
            if name is not None:
                found.setdefault(name, []).append(document.id)
        return dict(sorted(found.items()))

    def in_collections(self, names: Sequence[str]) -> list[str]:
        """The documents of these collections, in corpus order; KeyError for an unknown one."""
        wanted = {doc_id for name in names for doc_id in self.collections[name]}
        return [d.id for d in self.corpus.documents if d.id in wanted]

    def at_row(self, row: int) -> Passage:
        return self._by_row[row]

    def neighbours(self, row: int) -> tuple[Passage | None, Passage | None]:
        """The passages before and after a row's in its document, where there are."""
        passage = self._by_row[row]
        size = len(self._documents[passage.document].passages)
        before = self._by_row[row - 1] if passage.ordinal > 0 else None
        after = self._by_row[row + 1] if passage.ordinal + 1 < size else None
        return before, after

    def passage(self, passage_id: str) -> Passage:
        """The passage of an id such as `al-hasakah-city-offensive:12`; KeyError if unknown."""
        parsed = parse_passage_id(passage_id)
        document = self._documents.get(parsed[0]) if parsed else None
        if document is None or parsed[1] >= len(document.passages):
            raise KeyError(passage_id)
        return document.passages[parsed[1]]

    def find(self, text: str = "") -> list[DocumentSummary]:
        """The documents whose title or id holds `text`, case and accents aside, in corpus order."""
        if not text:
            return list(self._summaries)
        wanted = fold(text)
        return list(compress(self._summaries, (wanted in name for name in self._search_names)))

    @cached_property
    def _summaries(self) -> list[DocumentSummary]:
        return [
            DocumentSummary(d.id, d.title, d.sections, len(d.passages), collection_of(d.path))
            for d in self.corpus.documents
        ]

    @cached_property
    def _search_names(self) -> list[str]:
        """Each document's folded title and id, a line apart so that no match spans both."""
        return [fold(f"{d.title}\n{d.id}") for d in self.corpus.documents]

    def view(self, doc_id: str) -> DocumentView | None:
        """The document as its ordered passages, or None for an unknown id."""
        document = self._documents.get(doc_id)
        if document is None:
            return None
        passages = [
            PassageView(p.id, p.section, p.kind, p.text, p.start, p.end, p.page, list(p.references))
            for p in document.passages
        ]
        return DocumentView(document.id, document.title, document.sections, passages)


def collection_of(path: str) -> str | None:
    """The collection of a corpus file, from its path in the corpus: its top-level folder."""
    first, slash, _ = path.partition("/")
    return first if slash else None
