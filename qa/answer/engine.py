"""The answer engine: opens (loads or builds) the index of a corpus, and answers from it.

Each job has its room: answering in qa.answer.answering, browsing the documents in
qa.answer.browse, suggested questions in qa.answer.suggestions; the build in qa.index.build.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path

from qa import settings
from qa.answer.answering import Answerer
from qa.answer.browse import Library
from qa.answer.model import Anchor, Answer, DocumentSummary, DocumentView
from qa.answer.rank import Reranker
from qa.answer.shards import LocalShards, ShardedRanker, ShardSet
from qa.answer.suggestions import Suggestions
from qa.index import store, writer
from qa.index.build import Readers
from qa.ingest.passages import Passage
from qa.text.aliases import AliasTable
from qa.text.analyze import Analyzer
from qa.text.spelling import Lexicon

# Stems the engine remembers of the words in questions (see Analyzer).
QUESTION_STEMS = 4096

# What serves the shards of a loaded version of several: this process by default
# (qa.service.cluster's serves them from Ray actors).
ShardServer = Callable[[store.Saved], ShardSet]


def local_shards(saved: store.Saved) -> ShardSet:
    """The shards of a version, served in this process."""
    plan = saved.plan
    return LocalShards(
        saved.segments, plan.deleted, plan.segment_shards, plan.shards, plan.stats, plan.params
    )


class Engine:
    """A loaded corpus and its BM25 index, ready to answer questions.

    `version_dir` is the version of the index folder `index_dir` that it was loaded from;
    `serve` serves its shards when it has several, and those of the versions loaded after it.
    """

    def __init__(
        self,
        saved: store.Saved,
        corpus_dir: Path,
        index_dir: Path,
        semantic: bool | None = None,
        serve: ShardServer = local_shards,
    ):
        self.corpus, self.index = saved.corpus, saved.index
        self.corpus_dir, self.index_dir, self.version_dir = corpus_dir, index_dir, saved.folder
        self.analyzer = Analyzer(memo=QUESTION_STEMS)
        self.library = Library(saved.corpus)
        self.serve = serve
        self.shards = serve(saved) if saved.plan.shards > 1 else None
        index = saved.index
        ranker = (
            None if self.shards is None else ShardedRanker(self.shards, index.tie_order, index.live)
        )
        self.answerer = Answerer(
            self.library, saved.index, self.analyzer, saved.folder, saved.segments, ranker
        )
        self.passages: Sequence[Passage] = self.library.passages
        # Seconds spent computing passage vectors for this version (0 when they were saved).
        self.vector_seconds = 0.0
        self.vector_bytes = 0  # what they take on disk, once the semantic stage is on
        # What the update that made this engine's version did, when it made one.
        self.summary: writer.Summary | None = None
        self.saved_segments = saved.segments
        if settings.semantic_enabled() if semantic is None else semantic:
            self.use_semantic()

    def use_semantic(self, on: bool = True) -> None:
        """Turns the semantic stage on (computing and saving the version's passage vectors when
        it has none) or off. qa.semantic.encoder.Unavailable when its extra is not installed."""
        if not on:
            self.ranker.vectors = None
            return
        from qa.semantic import encoder, vectors

        if not encoder.available():
            encoder.model_dir()  # raises Unavailable, saying what to install
            raise encoder.Unavailable("the semantic stage needs the tokenizers package")
        corpus = self.library.corpus
        found, self.vector_seconds = vectors.ensure(
            self.version_dir,
            len(corpus.table),
            lambda: vectors.passage_texts(corpus.titles, corpus.table),
        )
        self.ranker.vectors = found
        self.vector_bytes = vectors.stored_bytes(self.version_dir)

    @classmethod
    def open(
        cls,
        corpus_dir: str | Path | None = None,
        index_dir: str | Path | None = None,
        *,
        rebuild: bool = False,
        optimize: bool = False,
        progress: Callable[[int, int], None] | None = None,
        wait: float | None = None,
        waiting: Callable[[str], None] | None = None,
        semantic: bool | None = None,
        shards: int | None = None,
        serve: ShardServer = local_shards,
        readers: Readers | None = None,
    ) -> Engine:
        """Loads the saved index when the corpus is unchanged, else updates and saves it: only
        new and changed files are read (all of them when `rebuild`), see qa.index.writer;
        `optimize` merges its segments into one.

        `progress` is told (files read, files to read) while an update reads files. An update
        first waits for any other process writing the index (at most `wait` seconds when
        given; `waiting` is told who that is), and reads nothing if that one made it current.

        Raises CorpusError when the folder is missing or holds no usable document,
        IndexNotSaved when the index has to be built but cannot be saved, and store.IndexBusy
        when another writer holds the index past `wait`. `semantic` turns the semantic stage on
        or off (None: as QA_SEMANTIC says). `shards` splits the index into that many shards
        (qa.index.shards; None: as it is), which `serve` serves; `readers` reads the files an
        update reads (qa.index.build.read_and_count).
        """
        corpus_path = settings.corpus_folder(corpus_dir)
        index_path = settings.index_folder(corpus_path, index_dir)
        steps = (corpus_path, index_path, rebuild, optimize, progress, wait, waiting)
        done = writer.refresh(*steps, shards=shards, readers=readers)
        try:
            saved = store.load_version(done.version)
        except store.IndexUnusable as exc:
            if done.summary is not None:
                raise  # just written, and already unusable: updating again would not help
            done = writer.refresh(*steps, why=str(exc), shards=shards, readers=readers)
            saved = store.load_version(done.version)
        # Served from the saved, memory-mapped files, as every later start will be.
        engine = cls(saved, corpus_path, index_path, semantic, serve)
        engine.summary = done.summary
        return engine

    @classmethod
    def load_version(
        cls, corpus_dir: Path, index_dir: Path, version: Path, serve: ShardServer = local_shards
    ) -> Engine:
        """The engine of a saved version of the index, whatever the corpus is now; never builds.

        Raises store.IndexUnusable when the version fails its checks.
        """
        return cls(store.load_version(version), corpus_dir, index_dir, serve=serve)

    def close(self) -> None:
        """Lets the servers of its shards go: another engine answers from now on."""
        if self.shards is not None:
            self.shards.close()

    def shard_places(self) -> list[tuple[str, list[str]]]:
        """Each shard's name and where each of its replicas runs (empty for one shard)."""
        return [] if self.shards is None else self.shards.places()

    def ask(
        self,
        question: str,
        history: Sequence[str] = (),
        k: int = settings.K_DEFAULT,
        documents: Sequence[str] | None = None,
        anchor: Anchor | None = None,
    ) -> Answer:
        """The answer to a question; unknown ids in `documents` (or `anchor`) raise KeyError.

        A question that asks to go on ("tell me more", "and before that?") continues from
        `anchor`, the one the previous answer gave, or else from the answer to the last
        question of `history`.
        """
        started = time.perf_counter()
        k = max(settings.K_MIN, min(k, settings.K_MAX))
        result = self.answerer.ask(question, history, k, documents, anchor)
        result.took_ms = round((time.perf_counter() - started) * 1000, 3)
        return result

    @property
    def ranker(self) -> Reranker:
        return self.answerer.ranker

    @property
    def aliases(self) -> AliasTable:
        return self.answerer.aliases

    @property
    def lexicon(self) -> Lexicon:
        return self.answerer.lexicon

    def passage(self, passage_id: str) -> Passage:
        """The passage of an id such as `al-hasakah-city-offensive:12`; KeyError if unknown."""
        return self.library.passage(passage_id)

    def documents(self) -> list[DocumentSummary]:
        """Every document, in corpus order."""
        return self.library.find()

    def find_documents(self, text: str = "") -> list[DocumentSummary]:
        """The documents whose title or id holds `text`, case and accents aside, in corpus order."""
        return self.library.find(text)

    def document(self, doc_id: str) -> DocumentView | None:
        """The document as its ordered passages, or None for an unknown id."""
        return self.library.view(doc_id)

    def collections(self) -> dict[str, list[str]]:
        """Each collection (a top-level folder of the corpus) with its documents' ids."""
        return self.library.collections

    def in_collections(self, names: Sequence[str]) -> list[str]:
        """The ids of the documents of these collections; KeyError for an unknown one."""
        return self.library.in_collections(names)

    def document_file(self, doc_id: str) -> str | None:
        """The document's file, as a path in the corpus folder, or None for an unknown id."""
        return self.library.get(doc_id).path if doc_id in self.library else None

    def source_file(self, doc_id: str) -> Path | None:
        """The file a document was read from, or None for an unknown id (or a file now gone).

        The id is looked up, never made into a path: the path is the one the corpus walk found.
        """
        stored = self.document_file(doc_id)
        path = Path(self.corpus_dir, stored) if stored is not None else None
        return path if path is not None and path.is_file() else None

    def suggestions(self, n: int = 4) -> list[str]:
        """Questions drawn from the corpus itself (infobox fields, sections), for an empty chat."""
        return self._suggestions.first(n)

    @cached_property
    def _suggestions(self) -> Suggestions:
        return Suggestions(self.library, lambda question: self.ask(question, k=1), self.analyzer)

    def warm(self) -> None:
        """Makes now what questions need (paragraphs, aliases, spellings), by asking some.

        Under gunicorn this runs before the workers are forked: they share one copy of it all
        instead of each making its own at its first question.
        """
        self.suggestions()
        if self.corpus.documents:
            self.ask(self.corpus.documents[0].title)

    def stats(self) -> dict:
        return {
            "documents": len(self.corpus.documents),
            "passages": self.index.stats.passages,
            "terms": self.index.terms,
            "skipped": [
                {"file": s.file, "reason": s.reason}
                for s in self.corpus.skipped + self.corpus.unsupported
            ],
        }
