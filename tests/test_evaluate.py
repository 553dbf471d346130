"""`qa eval`: metrics on hand-made cases, the SQuAD corpus, the baseline, the quality gate."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from rank_bm25 import BM25Okapi

from qa.answer.engine import Engine
from qa.cli import main
from qa.tools import evaluate
from qa.tools.evaluate import Outcome, Question, first_hit, summarize, worst
from tests.helpers import DATA, DEFAULT_CORPUS

SEEDS = DATA / "seeds-dev.jsonl"
# Three articles of the SQuAD development set (see tests/data/README.md).
SQUAD_SLICE = DATA / "squad-dev-slice.json"


def outcome(rank: int | None, *, abstained: bool = False, kind: str = "factoid", ms: float = 1.0):
    answers = () if kind == "abstain" else ("x",)
    return Outcome(Question(f"q{rank}", "?", answers, kind), rank, abstained, ms)


def test_a_hit_ignores_case_accents_and_white_space():
    texts = ["Nothing to see.", "The  CAFÉ   in Kobanî opened."]
    assert first_hit(texts, ["café in KOBANI"]) == 2


def test_a_miss_has_no_rank():
    assert first_hit(["The café opened."], ["the bakery"]) is None
    assert first_hit([], ["anything"]) is None


def test_of_tied_citations_the_first_that_holds_an_answer_counts():
    texts = ["It was 1954.", "In 1954 it was listed.", "Listed in 1954."]
    assert first_hit(texts, ["listed", "1954"]) == 1
    assert first_hit(texts, ["listed"]) == 2


def test_summary_of_hits_a_miss_and_abstentions():
    row = summarize(
        [
            outcome(1, ms=1.0),
            outcome(4, ms=2.0),
            outcome(None, ms=3.0),  # a miss
            outcome(None, abstained=True, ms=4.0),  # an answerable question abstained on
            outcome(None, abstained=True, kind="abstain", ms=5.0),
            outcome(None, kind="abstain", ms=6.0),  # answered what it should not have
        ]
    )
    assert row["questions"] == 6
    assert (row["hit@1"], row["hit@3"], row["hit@5"]) == (0.25, 0.25, 0.5)
    assert row["mrr@10"] == pytest.approx((1 + 1 / 4) / 4)
    assert row["wrongly_abstained"] == 0.25
    assert row["abstained"] == 0.5
    assert row["p50_ms"] == pytest.approx(3.5)


def test_a_hit_past_the_tenth_citation_scores_nothing():
    assert summarize([outcome(11)])["mrr@10"] == 0.0


def test_only_abstain_questions_have_no_hit_rates():
    row = summarize([outcome(None, abstained=True, kind="abstain")])
    assert row["abstained"] == 1.0 and "hit@1" not in row


def test_the_worst_are_wrong_abstentions_then_misses_then_late_hits():
    outcomes = [
        outcome(1),
        outcome(3),
        outcome(None),
        outcome(None, abstained=True),
        outcome(None, abstained=True, kind="abstain"),
        outcome(7),
    ]
    listed = worst(evaluate.Run("qa", outcomes), 10)
    assert [(o.rank, o.abstained) for o in listed] == [
        (None, True),
        (None, False),
        (7, False),
        (3, False),
    ]
    assert len(worst(evaluate.Run("qa", outcomes), 2)) == 2


def test_report_puts_systems_side_by_side_with_the_gain():
    runs = [evaluate.Run("qa", [outcome(1)]), evaluate.Run("base", [outcome(None)])]
    results = evaluate.report(runs)
    assert list(results) == ["all", "factoid"]
    assert list(results["all"]) == ["qa", "base"]
    assert "| all | qa | 1 | 1.000 |" in evaluate.table(results)
    assert evaluate.gains(results) == "qa over base: hit@1 +1.000, hit@5 +1.000, mrr@10 +1.000"


def test_the_gain_of_the_semantic_stage_is_over_qa():
    runs = [
        evaluate.Run("qa", [outcome(2)]),
        evaluate.Run("base", [outcome(None)]),
        evaluate.Run(evaluate.SEMANTIC, [outcome(1)]),
    ]
    lines = evaluate.gains(evaluate.report(runs)).splitlines()
    assert lines[1] == "qa + semantic over qa: hit@1 +1.000, hit@5 +0.000, mrr@10 +0.500"


def test_baseline_ranks_as_rank_bm25_does():
    passages = [
        "The river floods in spring.",
        "Spring is dry this year.",
        "The river dam was built in 1950.",
        "A dam holds the river back.",
    ]
    questions = [
        Question("a", "When was the river dam built?", ("1950",), "factoid"),
        Question("b", "does the river flood in spring?", ("floods",), "factoid"),
    ]
    okapi = BM25Okapi([p.lower().split() for p in passages])
    run = evaluate.run_baseline(passages, questions)
    for q, got in zip(questions, run.outcomes, strict=True):
        scores = okapi.get_scores(q.question.lower().split())
        order = [i for i in np.lexsort((np.arange(len(scores)), -scores)) if scores[i] > 0]
        assert got.rank == first_hit([passages[i] for i in order], q.answers)


def test_jsonl_questions_are_read_with_their_history(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "a", "question": "Q?", "answers": ["x"], "type": "followup", "history": ["H?"]}\n'
        "\n"
        '{"id": "b", "question": "R?", "answers": []}\n',
        "utf-8",
    )
    a, b = evaluate.read_jsonl(path)
    assert (a.type, a.history, a.answers) == ("followup", ("H?",), ("x",))
    assert b.type == "abstain"
    path.write_text('{"question": "no id"}\n', "utf-8")
    with pytest.raises(ValueError, match="q.jsonl:1"):
        evaluate.read_jsonl(path)


def squad_file(tmp_path, articles: int = 3):
    """A SQuAD file of `articles` articles with two paragraphs and one question each."""
    data = [
        {
            "title": f"Article_{n}",
            "paragraphs": [
                {
                    "context": f"Article {n} opens here. It has a\nsecond line.",
                    "qas": [
                        {
                            "id": f"{n}-0",
                            "question": f"How does article {n} open?",
                            "answers": [{"text": "opens here", "answer_start": 0}] * 2,
                        }
                    ],
                },
                {"context": f"The closing paragraph of article {n}.", "qas": []},
            ],
        }
        for n in range(articles)
    ]
    path = tmp_path / "squad.json"
    path.write_text(json.dumps({"version": "1.1", "data": data}), "utf-8")
    return path


def test_squad_splits_questions_but_keeps_every_article(tmp_path):
    path = squad_file(tmp_path)
    articles, questions = evaluate.read_squad(path, "odd")
    assert [a.title for a in articles] == ["Article 0", "Article 1", "Article 2"]
    assert [q.id for q in questions] == ["1-0"]
    assert questions[0].answers == ("opens here",) and questions[0].type == "how"
    assert len(evaluate.read_squad(path)[1]) == 3


def test_squad_corpus_is_a_document_per_article_and_a_paragraph_per_context(tmp_path):
    articles, _ = evaluate.read_squad(squad_file(tmp_path))
    folder = tmp_path / "corpus"
    folder.mkdir()
    evaluate.write_corpus(articles, folder)
    engine = Engine.open(folder, tmp_path / "index")
    assert [d.title for d in engine.documents()] == ["Article 0", "Article 1", "Article 2"]
    number, first = engine.ranker.paragraphs
    assert len(first) - 1 == 6  # two contexts per article
    assert engine.passages[0].text == "Article 0 opens here."


@pytest.fixture
def cli(tmp_path):
    def run(*args: str):
        env = {"QA_INDEX": str(tmp_path / "index"), "QA_CORPUS": str(DEFAULT_CORPUS)}
        return CliRunner().invoke(main, ["eval", *args], env=env)

    return run


def test_eval_meets_every_seeds_target(cli):
    result = cli(str(SEEDS), "--json")
    assert result.exit_code == 0, result.output
    results = json.loads(result.stdout)["results"]
    qa = {kind: systems["qa"] for kind, systems in results.items()}
    answerable = ("factoid", "paraphrase")
    assert all(qa[kind]["hit@3"] == 1.0 for kind in answerable)
    first = sum(qa[kind]["hit@1"] * qa[kind]["questions"] for kind in answerable)
    assert first >= 0.9 * sum(qa[kind]["questions"] for kind in answerable)
    assert qa["abstain"]["abstained"] == 1.0
    assert qa["all"]["wrongly_abstained"] == 0.0
    assert qa["followup"]["hit@3"] == 1.0
    assert "rank-bm25 (whitespace)" in results["all"]


def test_eval_prints_the_table_with_the_baseline_and_the_misses(cli, tmp_path):
    path = tmp_path / "q.jsonl"
    rows = [
        {"id": "hit", "question": "Who backed the YPG?", "answers": ["Assyrian"]},
        {"id": "miss", "question": "Who backed the YPG?", "answers": ["nowhere in the corpus"]},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    result = cli(str(path), "--failures", "5")
    assert result.exit_code == 0, result.output
    assert "| all | qa | 2 | 0.500 |" in result.stdout
    assert "| all | rank-bm25 (whitespace) | 2 |" in result.stdout
    assert "qa over rank-bm25 (whitespace): hit@1 +" in result.stdout
    assert "[miss] (factoid, no hit in the first 10) Who backed the YPG?" in result.stdout
    assert "[hit]" not in result.stdout


def test_eval_on_a_few_squad_articles_beats_the_baseline(tmp_path):
    path = tmp_path / "few.json"
    shutil.copyfile(SQUAD_SLICE, path)
    result = CliRunner().invoke(main, ["eval", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["corpus"] == "3 articles of few.json"
    qa, baseline = (
        report["results"]["all"]["qa"],
        report["results"]["all"]["rank-bm25 (whitespace)"],
    )
    assert qa["hit@1"] > baseline["hit@1"] + 0.1
    assert qa["mrr@10"] > baseline["mrr@10"] + 0.1


def test_a_squad_file_brings_its_own_corpus(cli, tmp_path):
    result = cli(str(squad_file(tmp_path)), "--corpus", str(DEFAULT_CORPUS))
    assert result.exit_code != 0 and "own corpus" in result.output


@pytest.fixture(scope="module")
def slice_hit_at_1() -> dict[str, float]:
    """hit@1 on the slice's articles written as each format, one file per article."""
    hits = {}
    for file_format in evaluate.FORMATS:
        evaluation = evaluate.evaluate(SQUAD_SLICE, format=file_format)
        assert evaluation.corpus.endswith("" if file_format == "txt" else f" as .{file_format}")
        hits[file_format] = evaluation.results()["all"]["qa"]["hit@1"]
    return hits


@pytest.mark.parametrize("file_format", ["html", "docx", "pdf"])
def test_the_readers_lose_nothing_that_matters(slice_hit_at_1, file_format):
    assert abs(slice_hit_at_1[file_format] - slice_hit_at_1["txt"]) <= 0.01


def test_eval_format_is_for_squad_files(cli):
    result = cli(str(SEEDS), "--format", "pdf")
    assert result.exit_code == 2 and "--format is for SQuAD files" in result.output
