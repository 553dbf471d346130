"""The answer engine: opens (loads or builds) the index for a corpus and answers questions."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cached_property
from itertools import compress, pairwise
from pathlib import Path

import numpy as np

from qa import settings
from qa.answer import conversation, spans
from qa.answer import query as answer
from qa.answer.rank import Ranker
from qa.common.memo import Memo
from qa.index import store
from qa.index.build import build
from qa.ingest.corpus import fingerprint
from qa.ingest.passages import Passage
from qa.text import aliases, spelling
from qa.text.aliases import AliasTable
from qa.text.analyze import Analyzer, fold
from qa.text.spelling import Lexicon

log = logging.getLogger(__name__)

SUGGESTED_FIELDS = {
    "Result": "What was the result of the {title}?",
    "Place": "Where did the {title} take place?",
    "Date": "What was the date of the {title}?",
    "Casualties": "What were the casualties of the {title}?",
}
# Stems the engine remembers of the words in questions (see Analyzer).
QUESTION_STEMS = 4096
CITED_PASSAGES = 4096
# Suggestions are drawn from the first documents only, and checked by answering them: those
# whose answer holds at least MIN_NEW_TERMS terms the question does not come first.
SUGGESTION_DOCUMENTS = 50
MAX_SUGGESTIONS = 8
MIN_NEW_TERMS = 3
UNSUGGESTED_SECTIONS = {"see also", "references", "external links", "notes", "further reading"}


class Engine:
    """A loaded corpus and its BM25 index, ready to answer questions.

    `version_dir` is the version of the index folder `index_dir` that it was loaded from.
    """

    def __init__(self, saved: store.Saved, corpus_dir: Path, index_dir: Path):
        corpus = saved.corpus
        self.corpus, self.index = corpus, saved.index
        self.corpus_dir, self.index_dir, self.version_dir = corpus_dir, index_dir, saved.folder
        self.analyzer = Analyzer(memo=QUESTION_STEMS)
        # Passages are made from the saved arrays when asked for, never all at once; those
        # cited (and their neighbours, shown as context) are remembered.
        self.passages: Sequence[Passage] = corpus.table
        self._cited = Memo(corpus.table.__getitem__, CITED_PASSAGES)
        self._documents = {d.id: d for d in corpus.documents}
        bounds = pairwise(corpus.table.doc_starts.tolist())
        self._doc_rows = {
            d.id: slice(start, stop)
            for d, (start, stop) in zip(corpus.documents, bounds, strict=True)
        }

    @classmethod
    def open(
        cls,
        corpus_dir: str | Path | None = None,
        index_dir: str | Path | None = None,
        *,
        rebuild: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> Engine:
        """Loads the saved index when the corpus is unchanged, else builds and saves it.

        `progress` is told (files read, files in all) while a build reads the corpus.

        Raises CorpusError when the folder is missing or holds no usable document, and
        IndexNotSaved when the index has to be built but cannot be saved.
        """
        corpus_path = settings.corpus_folder(corpus_dir)
        index_path = settings.index_folder(corpus_path, index_dir)
        # Only a saved index needs the folder's fingerprint beforehand: a rebuild reads every
        # file anyway and fingerprints what it read, so hashing the corpus first would be twice.
        digest = None if rebuild else fingerprint(corpus_path)
        why = "a rebuild was asked for"
        if digest is not None:
            try:
                return cls(store.load(index_path, digest), corpus_path, index_path)
            except store.IndexUnusable as exc:
                why = str(exc)
                log.info("building the index at %s: %s", index_path, why)
        version, built = build(corpus_path, index_path, why, digest, progress)
        # Served from the saved, memory-mapped files, as every later start will be.
        return cls(store.load_version(version, built), corpus_path, index_path)

    @classmethod
    def load_version(cls, corpus_dir: Path, index_dir: Path, version: Path) -> Engine:
        """The engine of a saved version of the index, whatever the corpus is now; never builds.

        Raises store.IndexUnusable when the version fails its checks.
        """
        return cls(store.load_version(version, None), corpus_dir, index_dir)

    def ask(
        self,
        question: str,
        history: Sequence[str] = (),
        k: int = 5,
        documents: Sequence[str] | None = None,
    ) -> dict:
        """The answer object for a question; unknown ids in `documents` raise KeyError.

        A question that asks to go on ("tell me more", "and before that?") continues from the
        passage the previous answer cited, in its document.
        """
        started = time.perf_counter()
        mask = self._mask(documents) if documents else None
        k = max(settings.K_MIN, min(k, settings.K_MAX))
        step = conversation.direction(question)
        if step and history:
            result = self._continue(step, history, k, documents)
        elif step:
            empty = answer.Query({}, [], [])
            result = answer.answer_object(conversation.NOTHING_TO_CONTINUE, [], empty, 0.0, True)
        else:
            result = self._answer(question, history, k, mask)
        result["took_ms"] = round((time.perf_counter() - started) * 1000, 3)
        return result

    def _answer(
        self, question: str, history: Sequence[str], k: int, mask: np.ndarray | None
    ) -> dict:
        suggestions = self.lexicon.suggestions(question, self._has_word)
        searched = spelling.apply(question, suggestions)
        names = self.aliases.used(searched)
        for form, group in names:
            # A name is searched as the corpus usually writes it (`ISIS` as `ISIL`).
            searched = aliases.replace_name(searched, form, self.aliases.usual_name(group))
        query = answer.build_query(self.analyzer, searched, history)
        query = replace(
            query.with_names([(f, g, self.aliases.terms(f)) for f, g in names]),
            spelling=[s.as_dict() for s in suggestions],
        )
        ranking = self.ranker.rank(query, searched, mask)
        abstained = ranking.support < answer.MIN_COVERAGE
        shown = 0 if abstained else min(k, len(ranking.rows))
        citations = [
            self._citation(
                i + 1, int(ranking.rows[i]), ranking.probabilities[i], ranking.matched(i)
            )
            for i in range(shown)
        ]
        # Spans are marked in the sentences the answer quotes, the ones a reader sees first.
        for quoted in answer.quoted(citations):
            span = spans.answer_span(searched, quoted["text"], self.analyzer)
            quoted["answer_span"] = span and span.as_dict()
        text = answer.NO_TERMS if not query.weights else answer.answer_text(citations)
        text = answer.spelling_note(query.spelling) + text
        return answer.answer_object(text, citations, query, 0.0, abstained)

    def _continue(self, step: int, history: Sequence[str], k: int, documents) -> dict:
        """The sentences after (step 1) or before (-1) the passage the last answer cited."""
        previous = self.ask(history[-1], history[:-1], k, documents)
        query = answer.Query({}, [], [])
        if not previous["citations"]:
            # After the end of a document, going on is still at its end.
            ended = previous["query"]["continues"] is not None
            text = previous["answer"] if ended else conversation.NOTHING_TO_CONTINUE
            return answer.answer_object(text, [], query, 0.0, True)
        anchor = conversation.anchor(previous, step)
        document = self._documents[anchor["document"]["id"]]
        rows = self._doc_rows[document.id]
        ordinal = anchor["ordinal"]
        wanted = range(ordinal + 1, ordinal + 1 + min(k, conversation.STEP))
        if step < 0:
            wanted = range(max(0, ordinal - min(k, conversation.STEP)), ordinal)
        ordinals = [o for o in wanted if 0 <= o < len(document.passages)]
        query = replace(query, continues={"passage_id": anchor["passage_id"], "direction": step})
        citations = [self._citation(n, rows.start + o, 1.0, []) for n, o in enumerate(ordinals, 1)]
        if not citations:
            text = conversation.edge(document.title, step)
            return answer.answer_object(text, [], query, 0.0, True)
        return answer.answer_object(answer.answer_text(citations), citations, query, 0.0, False)

    @cached_property
    def ranker(self) -> Ranker:
        titles = [d.title for d in self.corpus.documents]
        return Ranker(self.index, self.corpus.table, titles, self.analyzer)

    def _mask(self, documents: Sequence[str]) -> np.ndarray:
        mask = np.zeros(self.index.size, dtype=bool)
        for doc_id in documents:
            if doc_id not in self._doc_rows:
                raise KeyError(doc_id)
            mask[self._doc_rows[doc_id]] = True
        return mask

    def _citation(self, n: int, row: int, score: float, matched: list[str]) -> dict:
        passage = self._cited[row]
        document = self._documents[passage.document]
        before = self._cited[row - 1] if passage.ordinal > 0 else None
        after = self._cited[row + 1] if passage.ordinal + 1 < len(document.passages) else None
        return answer.citation(n, passage, document.title, score, matched, before, after)

    def _has_word(self, word: str) -> bool:
        """Whether the index holds the word's term, in whatever form the corpus wrote it."""
        terms = self.analyzer.word_terms(word)
        return bool(terms) and all(t in self.index.vocabulary for t in terms)

    @cached_property
    def aliases(self) -> AliasTable:
        groups = aliases.from_json(store.read_aliases(self.version_dir))
        return AliasTable(groups, self.analyzer, self.index.document_frequency)

    @cached_property
    def lexicon(self) -> Lexicon:
        return Lexicon.load(self.version_dir)

    def passage(self, passage_id: str) -> Passage:
        """The passage of an id such as `al-hasakah-city-offensive:12`; KeyError if unknown."""
        doc_id, _, ordinal = passage_id.rpartition(":")
        document = self._documents.get(doc_id)
        if document is None or not ordinal.isdigit() or int(ordinal) >= len(document.passages):
            raise KeyError(passage_id)
        return document.passages[int(ordinal)]

    def documents(self) -> list[dict]:
        """[{"id", "title", "sections": [str], "passages": int}] in corpus order."""
        return self.find_documents()

    def find_documents(self, text: str = "") -> list[dict]:
        """The documents whose title or id holds `text`, case and accents aside, in corpus order."""
        if not text:
            return list(self._summaries)
        wanted = fold(text)
        return list(compress(self._summaries, (wanted in name for name in self._search_names)))

    @cached_property
    def _summaries(self) -> list[dict]:
        return [
            {"id": d.id, "title": d.title, "sections": d.sections, "passages": len(d.passages)}
            for d in self.corpus.documents
        ]

    @cached_property
    def _search_names(self) -> list[str]:
        """Each document's folded title and id, a line apart so that no match spans both."""
        return [fold(f"{d.title}\n{d.id}") for d in self.corpus.documents]

    def document(self, doc_id: str) -> dict | None:
        """The document as its ordered passages, or None for an unknown id."""
        document = self._documents.get(doc_id)
        if document is None:
            return None
        passages = [
            {
                "id": p.id,
                "section": p.section,
                "kind": p.kind,
                "text": p.text,
                "start": p.start,
                "end": p.end,
                "references": list(p.references),
            }
            for p in document.passages
        ]
        return {
            "id": document.id,
            "title": document.title,
            "sections": document.sections,
            "passages": passages,
        }

    def warm(self) -> None:
        """Makes now what questions need (paragraphs, aliases, spellings), by asking some.

        Under gunicorn this runs before the workers are forked: they share one copy of it all
        instead of each making its own at its first question.
        """
        self.suggestions()
        if self.corpus.documents:
            self.ask(self.corpus.documents[0].title)

    def suggestions(self, n: int = 4) -> list[str]:
        """Questions drawn from the corpus itself (infobox fields, sections), for an empty chat."""
        return self._suggestions[:n]

    @cached_property
    def _suggestions(self) -> list[str]:
        """Up to MAX_SUGGESTIONS questions, a document at a time, best answered first."""
        per_document = [
            self._suggestions_for(number, document)
            for number, document in enumerate(self.corpus.documents[:SUGGESTION_DOCUMENTS])
        ]
        picked: list[str] = []
        for round_ in range(max((len(s) for s in per_document), default=0)):
            picked.extend(s[round_] for s in per_document if round_ < len(s))
        # Questions answered with more than their own words first, then any answered at all.
        grades: dict[int, list[str]] = {2: [], 1: []}
        for question in list(dict.fromkeys(picked))[: 3 * MAX_SUGGESTIONS]:
            grade = self._answer_grade(question)
            if grade:
                grades[grade].append(question)
        return (grades[2] + grades[1])[:MAX_SUGGESTIONS]

    def _answer_grade(self, question: str) -> int:
        """0: not answered; 1: answered with little beyond its own words (a title); 2: answered."""
        result = self.ask(question, k=1)
        if result["abstained"]:
            return 0
        asked = set(self.analyzer.terms(question))
        said = set(self.analyzer.terms(result["citations"][0]["text"]))
        return 2 if len(said - asked) >= MIN_NEW_TERMS else 1

    def _suggestions_for(self, number: int, document) -> list[str]:
        title = document.title
        out = [f"What was the {title}?"]
        rows = self._doc_rows[document.id]
        codes = np.unique(self.corpus.table.columns["label"][rows])
        labels = [self.corpus.table.strings[c] for c in codes.tolist() if c >= 0]
        out += [
            SUGGESTED_FIELDS[label].format(title=title)
            for label in SUGGESTED_FIELDS
            if label in labels
        ]
        out += [
            f"What happened in the {_without_article(section).lower()} of the {title}?"
            for section in document.sections
            if section.lower() not in UNSUGGESTED_SECTIONS
        ]
        return out

    def stats(self) -> dict:
        return {
            "documents": len(self.corpus.documents),
            "passages": self.index.size,
            "terms": len(self.index.vocabulary),
            "skipped": [{"file": s.file, "reason": s.reason} for s in self.corpus.skipped],
        }


def _without_article(name: str) -> str:
    """`The offensive` -> `offensive`, for a name that a sentence gives its own article."""
    return re.sub(r"^(?:the|a|an)\s+", "", name, flags=re.IGNORECASE)
