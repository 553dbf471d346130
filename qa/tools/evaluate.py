"""Measured answer quality: question sets, hit@k and MRR, abstention, latency, and a baseline.

A question is a hit at k when one of its first k citations contains one of its answer strings,
compared without regard to case, accents or white space.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.answer.engine import Engine
from qa.index.bm25 import BM25Index
from qa.text.analyze import fold
from qa.text.question import question_word
from qa.tools.writers import WRITERS

RANKS = 10
CUTOFFS = (1, 3, 5)
ABSTAIN = "abstain"
FORMATS = ("txt", *WRITERS)
# The splits that keep the questions of an even-numbered article, and of an odd-numbered one.
SPLITS = ({"all", "even"}, {"all", "odd"})


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    type: str
    history: tuple[str, ...] = ()


@dataclass(frozen=True)
class Article:
    """A SQuAD article: its title and its paragraphs (contexts)."""

    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """How one system did on one question: the rank of the first hit (None: no hit)."""

    question: Question
    rank: int | None
    abstained: bool
    took_ms: float
    top: str = ""
    span: str | None = None


@dataclass
class Run:
    """The outcomes of one system on a question set."""

    system: str
    outcomes: list[Outcome] = field(default_factory=list)


def read_jsonl(path: Path) -> list[Question]:
    """The questions of a JSON Lines file (`id`, `question`, `answers`, `type`, `history`)."""
    questions = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(
                Question(
                    str(row["id"]),
                    row["question"],
                    tuple(row.get("answers") or ()),
                    row.get("type") or ("abstain" if not row.get("answers") else "factoid"),
                    tuple(row.get("history") or ()),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a question object ({exc})") from exc
    return questions


def is_squad(path: Path) -> bool:
    return path.suffix.lower() == ".json"


def read_squad(path: Path, split: str = "all") -> tuple[list[Article], list[Question]]:
    """Every article of a SQuAD v1.1 file, and the questions of the `split` ones.

    `even` and `odd` keep the questions of the even- or odd-numbered articles (from 0), so that
    a model fitted on one half can be measured on the other, over the same corpus.
    """
    data = json.loads(path.read_text("utf-8"))["data"]
    articles, questions = [], []
    for number, item in enumerate(data):
        articles.append(
            Article(
                item["title"].replace("_", " "), tuple(p["context"] for p in item["paragraphs"])
            )
        )
        if split in SPLITS[number % 2]:
            questions += [_squad_question(qa) for p in item["paragraphs"] for qa in p["qas"]]
    return articles, questions


def _squad_question(qa: dict) -> Question:
    answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"]))
    # SQuAD has no question types; the question word says what kind of answer is wanted.
    return Question(qa["id"], qa["question"], answers, question_word(qa["question"]))


def write_corpus(articles: Iterable[Article], folder: Path, format: str = "txt") -> None:
    """One document per article in `format` (FORMATS), its title first, then a paragraph per
    context; .txt in the wiki style (`= Title =`)."""
    for number, article in enumerate(articles):
        # A context's own line breaks could read as headings or list items: one line each.
        paragraphs = tuple(" ".join(p.split()) for p in article.paragraphs)
        path = folder / f"{number:03d}.{format}"
        if format != "txt":
            WRITERS[format](article.title, paragraphs, path)
            continue
        text = "= {} =\n\n{}\n".format(article.title, "\n\n".join(paragraphs))
        path.write_text(text, "utf-8")


def normalize(text: str) -> str:
    """Folded case and accents, single spaces: the form answers and passages are compared in."""
    return " ".join(fold(text).split())


def first_hit(texts: Sequence[str], answers: Sequence[str]) -> int | None:
    """The 1-based rank of the first text containing one of the answers, None when none does."""
    wanted = [normalize(a) for a in answers if a.strip()]
    for rank, text in enumerate(texts, 1):
        passage = normalize(text)
        if any(a in passage for a in wanted):
            return rank
    return None


SEMANTIC = "qa + semantic"


def run_engine(engine: Engine, questions: Sequence[Question], system: str = "qa") -> Run:
    """Asks every question exactly as the service does, timing each answer."""
    run = Run(system)
    for q in questions:
        started = time.perf_counter()
        result = engine.ask(q.question, list(q.history), k=RANKS)
        took = (time.perf_counter() - started) * 1000
        texts = [c.text for c in result.citations]
        top = texts[0] if texts else ""
        span = result.answer_span.text if result.answer_span else None
        hit = first_hit(texts, q.answers)
        run.outcomes.append(Outcome(q, hit, result.abstained, took, top, span))
    return run


def squad_normalize(text: str) -> list[str]:
    """Tokens as SQuAD's own script compares them: lower case, no punctuation or articles."""
    text = "".join(c if c.isalnum() or c.isspace() else " " for c in fold(text))
    return [t for t in text.split() if t not in ("a", "an", "the")]


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    return float(any(squad_normalize(prediction) == squad_normalize(a) for a in answers))


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """The best token F1 of the prediction against any answer, as in SQuAD's script."""
    predicted = squad_normalize(prediction)
    best = 0.0
    for answer in answers:
        gold = squad_normalize(answer)
        common = sum((Counter(predicted) & Counter(gold)).values())
        if common:
            precision, recall = common / len(predicted), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def span_report(run: Run) -> dict:
    """How well the marked answer spans match the answers, beside marking the whole sentence.

    Over the answerable questions whose first citation holds an answer and got a span: exact
    match and token F1 of the span, and of the whole cited sentence as the baseline.
    """
    marked = [
        o for o in run.outcomes if o.question.type != ABSTAIN and o.rank == 1 and o.span is not None
    ]
    hits = [o for o in run.outcomes if o.question.type != ABSTAIN and o.rank == 1]
    return {
        "questions": len(marked),
        "share_with_span": len(marked) / len(hits) if hits else 0.0,
        "span": {
            "exact_match": _mean(exact_match(o.span, o.question.answers) for o in marked),
            "f1": _mean(token_f1(o.span, o.question.answers) for o in marked),
        },
        "whole_sentence": {
            "exact_match": _mean(exact_match(o.top, o.question.answers) for o in marked),
            "f1": _mean(token_f1(o.top, o.question.answers) for o in marked),
        },
    }


def span_table(spans: dict) -> str:
    """The span report as a Markdown table."""
    lines = [
        f"Answer spans: {spans['questions']} questions whose first citation holds an answer "
        f"({spans['share_with_span']:.0%} of those got a span)",
        "",
        "| marked | exact match | token F1 |",
        "|---|---|---|",
    ]
    for name, key in (("answer span", "span"), ("whole sentence (baseline)", "whole_sentence")):
        lines.append(f"| {name} | {spans[key]['exact_match']:.3f} | {spans[key]['f1']:.3f} |")
    return "\n".join(lines)


def whitespace_tokens(text: str) -> list[str]:
    return text.lower().split()


def run_baseline(passages: Sequence[str], questions: Sequence[Question]) -> Run:
    """rank-bm25's BM25Okapi over the same passages with lower-cased whitespace tokens.

    BM25Index gives exactly BM25Okapi's scores (k1 1.5, b 0.75, epsilon 0.25), only faster; the
    question alone is searched, as a naive implementation would, and it never abstains.
    """
    index = BM25Index().index(whitespace_tokens(p) for p in passages)
    run = Run("rank-bm25 (whitespace)")
    for q in questions:
        started = time.perf_counter()
        rows, _ = index.retrieve(whitespace_tokens(q.question), RANKS)
        took = (time.perf_counter() - started) * 1000
        texts = [passages[r] for r in rows]
        top = texts[0] if texts else ""
        run.outcomes.append(Outcome(q, first_hit(texts, q.answers), False, took, top))
    return run


def summarize(outcomes: Sequence[Outcome]) -> dict:
    """hit@k, MRR@10 and wrong abstentions over answerable questions; abstentions over the rest."""
    answerable = [o for o in outcomes if o.question.type != ABSTAIN]
    unanswerable = [o for o in outcomes if o.question.type == ABSTAIN]
    row: dict = {"questions": len(outcomes)}
    if answerable:
        ranks = [o.rank for o in answerable]
        for k in CUTOFFS:
            row[f"hit@{k}"] = _mean(r is not None and r <= k for r in ranks)
        row["mrr@10"] = _mean(1 / r if r is not None and r <= RANKS else 0.0 for r in ranks)
        row["wrongly_abstained"] = _mean(o.abstained for o in answerable)
    if unanswerable:
        row["abstained"] = _mean(o.abstained for o in unanswerable)
    took = [o.took_ms for o in outcomes]
    row["p50_ms"] = float(np.percentile(took, 50)) if took else 0.0
    row["p95_ms"] = float(np.percentile(took, 95)) if took else 0.0
    return row


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def report(runs: Sequence[Run]) -> dict:
    """{type: {system: row}}, "all" first, for every run."""
    types = ["all", *sorted({o.question.type for run in runs for o in run.outcomes})]
    return {
        kind: {
            run.system: summarize([o for o in run.outcomes if kind in ("all", o.question.type)])
            for run in runs
        }
        for kind in types
    }


COLUMNS = (
    ("n", "questions", "{:d}"),
    ("hit@1", "hit@1", "{:.3f}"),
    ("hit@3", "hit@3", "{:.3f}"),
    ("hit@5", "hit@5", "{:.3f}"),
    ("MRR@10", "mrr@10", "{:.3f}"),
    ("abstained", "abstained", "{:.3f}"),
    ("wrongly abstained", "wrongly_abstained", "{:.3f}"),
    ("p50 ms", "p50_ms", "{:.2f}"),
    ("p95 ms", "p95_ms", "{:.2f}"),
)
GAINS = ("hit@1", "hit@5", "mrr@10")


def table(results: dict) -> str:
    """The report as a Markdown table, each system's row beside the others' for every type."""
    header = ["type", "system", *(name for name, _, _ in COLUMNS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for kind, systems in results.items():
        for system, row in systems.items():
            cells = [kind, system]
            cells += [fmt.format(row[key]) if key in row else "–" for _, key, fmt in COLUMNS]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def gains(results: dict) -> str:
    """How much the first system beats each other one on every question, and what the semantic
    stage adds to it, as one line each."""
    rows = results["all"]
    first, *others = rows
    pairs = [(SEMANTIC, first) if other == SEMANTIC else (first, other) for other in others]
    return "\n".join(
        f"{better} over {than}: "
        + ", ".join(
            f"{key} {rows[better][key] - rows[than][key]:+.3f}"
            for key in GAINS
            if key in rows[better]
        )
        for better, than in pairs
    )


def worst(run: Run, n: int) -> list[Outcome]:
    """The n worst outcomes: wrong abstentions, then misses, then the latest hits."""

    def badness(o: Outcome) -> int:
        if o.question.type == ABSTAIN:
            return 0 if o.abstained else RANKS + 2
        if o.abstained:
            return RANKS + 3
        return o.rank or RANKS + 1

    return sorted((o for o in run.outcomes if badness(o) > 1), key=badness, reverse=True)[:n]


def describe(outcome: Outcome) -> str:
    """A miss as a few lines to study: the question, its answers and what was cited first."""
    q = outcome.question
    if outcome.abstained:
        verdict = "abstained"
    elif q.type == ABSTAIN:
        verdict = "answered"
    else:
        verdict = f"first hit at {outcome.rank}" if outcome.rank else f"no hit in the first {RANKS}"
    lines = [f"[{q.id}] ({q.type}, {verdict}) {q.question}"]
    if q.history:
        lines.append(f"    history: {' / '.join(q.history)}")
    if q.answers:
        lines.append(f"    answers: {' | '.join(q.answers)}")
    if outcome.top:
        lines.append(f"    cited first: {outcome.top}")
    return "\n".join(lines)


def failure(outcome: Outcome) -> dict:
    """A miss as JSON."""
    q = outcome.question
    return {
        "id": q.id,
        "type": q.type,
        "question": q.question,
        "history": list(q.history),
        "answers": list(q.answers),
        "rank": outcome.rank,
        "abstained": outcome.abstained,
        "cited_first": outcome.top,
    }


@dataclass
class Evaluation:
    """Every system's run on one question set, and what was searched."""

    source: str
    corpus: str
    passages: int
    runs: list[Run]
    # With the semantic stage: the seconds its passage vectors took to compute at indexing.
    vector_seconds: float | None = None
    vector_bytes: int | None = None  # and what they take on disk

    def results(self) -> dict:
        return report(self.runs)

    def spans(self) -> dict:
        return span_report(self.runs[0])


def vector_cost(evaluation: Evaluation) -> str:
    """What the semantic stage's passage vectors cost at indexing: time and room."""
    passages, seconds = max(evaluation.passages, 1), evaluation.vector_seconds or 0.0
    rate = f"{passages / seconds:.0f} passages/s" if seconds else "saved before"
    mb_per_million = (evaluation.vector_bytes or 0) / passages  # bytes a passage = MB a million
    return (
        f"Semantic stage: the vectors of {evaluation.passages} passages took {seconds:.1f} s to "
        f"compute at indexing ({rate}) and {mb_per_million:.0f} MB a million passages on disk"
    )


def evaluate(
    questions_file: Path,
    corpus: Path | None = None,
    index: Path | None = None,
    split: str = "all",
    progress: Callable[[str], None] | None = None,
    format: str = "txt",
    semantic: bool = False,
) -> Evaluation:
    """qa's run and the baseline's on a JSON Lines question set or a SQuAD file.

    A SQuAD file brings its own corpus, written as `format` files (FORMATS) and indexed in a
    temporary folder through the usual reading of a corpus folder; a question set is asked of
    `corpus` (default: the repository's). With `semantic`, qa answers again with the semantic
    stage on, as one more system.
    """
    if not is_squad(questions_file):
        engine = Engine.open(corpus, index, semantic=False)
        return _both(engine, read_jsonl(questions_file), questions_file.name, progress, semantic)
    articles, questions = read_squad(questions_file, split)
    source = questions_file.name + ("" if split == "all" else f" ({split} articles)")
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as scratch:
        folder = Path(scratch, "corpus")
        folder.mkdir()
        write_corpus(articles, folder, format)
        if progress:
            progress(f"indexing the {len(articles)} articles of {questions_file.name} as .{format}")
        engine = Engine.open(folder, Path(scratch, "index"), semantic=False)
        evaluation = _both(engine, questions, source, progress, semantic)
    evaluation.corpus = f"{len(articles)} articles of {questions_file.name}" + (
        "" if format == "txt" else f" as .{format}"
    )
    return evaluation


def _both(
    engine: Engine,
    questions: list[Question],
    source: str,
    progress: Callable[[str], None] | None,
    semantic: bool = False,
) -> Evaluation:
    if progress:
        progress(f"asking {len(questions)} questions over {engine.index.size} passages")
    ours = run_engine(engine, questions)
    baseline = run_baseline([p.text for p in engine.passages], questions)
    evaluation = Evaluation(source, str(engine.corpus_dir), engine.index.size, [ours, baseline])
    if semantic:
        if progress:
            progress("computing the passages' vectors, then asking again with the semantic stage")
        engine.use_semantic(True)
        evaluation.vector_seconds = engine.vector_seconds
        evaluation.vector_bytes = engine.vector_bytes
        evaluation.runs.append(run_engine(engine, questions, SEMANTIC))
        engine.use_semantic(False)
    return evaluation
