"""Answering: a question searched, re-ranked and cited with its spans, or a conversation gone on
from the passages an earlier answer cited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.answer import conversation, spans
from qa.answer.browse import Library
from qa.answer.model import (
    Anchor,
    Answer,
    AnswerSpan,
    Citation,
    Context,
    Continues,
    DocumentRef,
    Span,
    SpellingNote,
)
from qa.answer.query import Query, build_query
from qa.answer.rank import Ranker, Ranking, Reranker
from qa.index import store
from qa.index.bm25 import BM25Index
from qa.index.segments import Segment
from qa.ingest.passages import passage_id
from qa.text import aliases, spelling
from qa.text.aliases import AliasTable
from qa.text.analyze import Analyzer
from qa.text.question import Question, analyse
from qa.text.spelling import Lexicon, Lexicons

# A second sentence joins the answer text when the ranker finds it at least this share as likely
# to be the answer as the first.
SECOND_SENTENCE_SHARE = 0.8

NO_ANSWER = "The documents do not contain an answer to this question."
NO_TERMS = "The question has no searchable words; ask about a person, place, event or number."


@dataclass(frozen=True)
class Search:
    """A question as it is searched: its query, and its text once spellings and names are set,
    read once for what it asks (qa.text.question)."""

    query: Query
    text: str
    asks: Question


class Answerer:
    """Answers questions over one loaded index and its library of passages."""

    def __init__(
        self,
        library: Library,
        index: BM25Index,
        analyzer: Analyzer,
        version_dir: Path,
        parts: Sequence[Segment],
        ranker: Reranker | None = None,
    ) -> None:
        """`ranker` ranks the candidates when the index is served shard by shard
        (qa.answer.shards); by default, one Ranker over the whole index."""
        self.library, self.index, self.analyzer = library, index, analyzer
        self.version_dir, self._parts = version_dir, parts
        if ranker is not None:
            self.ranker = ranker

    @cached_property
    def ranker(self) -> Reranker:
        corpus = self.library.corpus
        return Ranker(self.index, corpus.table, corpus.titles, self.analyzer)

    @cached_property
    def aliases(self) -> AliasTable:
        groups = aliases.from_json(store.read_aliases(self.version_dir))
        return AliasTable(groups, self.analyzer, self.index.document_frequency)

    @cached_property
    def lexicon(self) -> Lexicon:
        """How the corpus spells its words: its segments' lexicons, as one."""
        return Lexicons.of([part.lexicon for part in self._parts])

    def ask(
        self,
        question: str,
        history: Sequence[str],
        k: int,
        documents: Sequence[str] | None,
        anchor: Anchor | None = None,
    ) -> Answer:
        """The answer; a question that asks to go on continues from `anchor`, or else from the
        answer to the conversation's last question. Unknown document ids raise KeyError."""
        step = conversation.direction(question)
        if not step:
            mask = self.library.mask(documents) if documents else None
            return self.answer(question, history, k, mask)
        if anchor is None and history:
            anchor = self.ask(history[-1], history[:-1], k, documents).anchor
        if anchor is None:
            return _unquoted(conversation.NOTHING_TO_CONTINUE, Query({}, [], []))
        return self.go_on(anchor, step, k)

    def search(self, question: str, history: Sequence[str] = ()) -> Search:
        """The query of a question: spellings corrected and names written as the corpus does."""
        suggestions = self.lexicon.suggestions(question, self._has_word)
        searched = spelling.apply(question, suggestions)
        names = self.aliases.used(searched)
        for form, group in names:
            # A name is searched as the corpus usually writes it (`ISIS` as `ISIL`).
            searched = aliases.replace_name(searched, form, self.aliases.usual_name(group))
        query = build_query(self.analyzer, searched, history)
        notes = [SpellingNote(s.written, s.meant, s.clear) for s in suggestions]
        query = replace(
            query.with_names([(f, g, self.aliases.terms(f)) for f, g in names]), spelling=notes
        )
        return Search(query, searched, analyse(searched))

    def rank(self, search: Search, mask: np.ndarray | None = None) -> Ranking:
        return self.ranker.rank(search.query, search.asks, mask)

    def answer(
        self, question: str, history: Sequence[str], k: int, mask: np.ndarray | None
    ) -> Answer:
        """The answer to a question of its own, cited from the best candidates."""
        search = self.search(question, history)
        query = search.query
        ranking = self.rank(search, mask)
        if not query.weights:
            return _unquoted(NO_TERMS, query)
        # The documents are taken not to hold the answer when the answerability model, which
        # reads the ranking's evidence (qa.answer.rank.evidence), finds it unlikely.
        if ranking.answerable < 0:
            return _unquoted(NO_ANSWER, query)
        shown = min(k, len(ranking.rows))
        citations = [
            self.citation(i + 1, int(ranking.rows[i]), ranking.probabilities[i], ranking.matched(i))
            for i in range(shown)
        ]
        quoted = _quoted(citations)
        # Spans are marked in the sentences the answer quotes, the ones a reader sees first.
        for citation in quoted:
            found = spans.answer_span(search.asks, citation.text, self.analyzer)
            citation.answer_span = found and Span(found.text, found.start, found.end, found.kind)
        first = self.library.at_row(int(ranking.rows[0]))
        return _quoting(
            citations, quoted, query, Anchor(first.document, first.ordinal, first.ordinal)
        )

    def go_on(self, anchor: Anchor, step: int, k: int) -> Answer:
        """The sentences after (step 1) or before (-1) the passages `anchor` spans."""
        document = self.library.get(anchor.document)
        rows = self.library.rows(document.id)
        count = min(k, conversation.STEP)
        if step > 0:
            wanted = range(anchor.last + 1, anchor.last + 1 + count)
        else:
            wanted = range(max(0, anchor.first - count), anchor.first)
        ordinals = [o for o in wanted if 0 <= o < len(document.passages)]
        origin = anchor.last if step > 0 else anchor.first
        continues = Continues(passage_id(document.id, origin), document.id, step)
        query = replace(Query({}, [], []), continues=continues)
        citations = [self.citation(n, rows.start + o, 1.0, []) for n, o in enumerate(ordinals, 1)]
        if not citations:
            edge = _unquoted(conversation.edge(document.title, step), query)
            edge.anchor = anchor  # after the end, going on is still at its end
            return edge
        reached = Anchor(document.id, ordinals[0], ordinals[-1])
        return _quoting(citations, _quoted(citations), query, reached)

    def citation(self, n: int, row: int, score: float, matched: list[str]) -> Citation:
        passage = self.library.at_row(row)
        title = self.library.get(passage.document).title
        before, after = self.library.neighbours(row)
        return Citation(
            n=n,
            passage_id=passage.id,
            document=DocumentRef(passage.document, title),
            section=passage.section,
            kind=passage.kind,
            text=passage.text,
            score=round(float(score), 4),
            start=passage.start,
            end=passage.end,
            page=passage.page,
            context=Context(before.text if before else None, after.text if after else None),
            matched_terms=matched,
            references=list(passage.references),
            answer_span=None,
        )

    def _has_word(self, word: str) -> bool:
        """Whether the index holds the word's term, in whatever form the corpus wrote it."""
        terms = self.analyzer.word_terms(word)
        return bool(terms) and all(t in self.index for t in terms)


def _quoted(citations: list[Citation]) -> list[Citation]:
    """The citations the answer quotes: the best, and the runner-up when nearly as good."""
    if len(citations) > 1 and citations[1].score >= SECOND_SENTENCE_SHARE * citations[0].score:
        return citations[:2]
    return citations[:1]


def spelling_note(notes: list[SpellingNote]) -> str | None:
    """What the answer says of the question's spelling, before the answer itself."""
    applied = [s for s in notes if s.applied]
    if applied:
        said = ", ".join(
            f"\u201c{s.suggested}\u201d (you wrote \u201c{s.written}\u201d)" for s in applied
        )
        return f"Searched for {said}. "
    if notes:
        return "Did you mean " + " or ".join(f"\u201c{s.suggested}\u201d" for s in notes) + "? "
    return None


def _quoting(
    citations: list[Citation], quoted: list[Citation], query: Query, anchor: Anchor
) -> Answer:
    """The answer that quotes some of its citations, each followed by its [n] marker."""
    text = " ".join(f"{c.text} [{c.n}]" for c in quoted)
    span = citations[0].answer_span
    note = spelling_note(query.spelling)
    return Answer(
        answer=(note or "") + text,
        abstained=False,
        answer_span=AnswerSpan(span.text, span.start, span.end, span.type, 1) if span else None,
        citations=citations,
        quoted=[c.n for c in quoted],
        message=None,
        note=note,
        anchor=anchor,
        query=query.report(),
        took_ms=0.0,
    )


def _unquoted(message: str, query: Query) -> Answer:
    """The answer that cites nothing: the documents hold no answer, or there is nothing more."""
    note = spelling_note(query.spelling)
    return Answer(
        answer=(note or "") + message,
        abstained=True,
        answer_span=None,
        citations=[],
        quoted=[],
        message=message,
        note=note,
        anchor=None,
        query=query.report(),
        took_ms=0.0,
    )
