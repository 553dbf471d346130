"""A sharded index: documents split by a stable hash of their file's name, each shard's segments its
own, the statistics those of the whole; served shard by shard, it answers exactly as one index of
the same files does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qa.answer import rank
from qa.answer.engine import Engine
from qa.answer.model import as_json
from qa.answer.shards import ShardedRanker
from qa.cli import main
from qa.index import shards, store
from qa.semantic import encoder as semantic
from qa.semantic.vectors import Vectors
from qa.tools.evaluate import read_squad
from tests.helpers import DEFAULT_CORPUS, ROOT

DATA = ROOT / "tests" / "data"
# Paragraphs of an article per file: the slice's three articles become many documents.
PER_FILE = 4


def write_corpus(folder: Path) -> list[str]:
    """The default corpus, a copy of one of its articles under another name (every sentence of it
    ties with the original), and the SQuAD slice's articles a few paragraphs per file, in
    folders; returns the questions of both."""
    shutil.copytree(DEFAULT_CORPUS, folder)
    twin = folder / "twins" / "copy.txt"
    twin.parent.mkdir()
    shutil.copy(DEFAULT_CORPUS / "al-hasakah-city-offensive.txt", twin)
    articles, asked = read_squad(DATA / "squad-dev-slice.json")
    for number, article in enumerate(articles):
        for start in range(0, len(article.paragraphs), PER_FILE):
            paragraphs = article.paragraphs[start : start + PER_FILE]
            text = f"= {article.title} ({start // PER_FILE}) =\n\n" + "\n\n".join(paragraphs)
            path = folder / f"article-{number}" / f"part-{start // PER_FILE:02d}.txt"
            path.parent.mkdir(exist_ok=True)
            path.write_text(text + "\n", "utf-8")
    seeds = [json.loads(line)["question"] for line in (DATA / "seeds-dev.jsonl").open()]
    return seeds + [q.question for q in asked]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    questions = write_corpus(root / "corpus")
    one = Engine.open(root / "corpus", root / "one")
    three = Engine.open(root / "corpus", root / "three", shards=3)
    return root, questions, one, three


def answered(engine: Engine, question: str, **asked) -> dict:
    answer = as_json(engine.ask(question, **asked))
    answer.pop("took_ms")
    return answer


def test_documents_go_to_the_shard_their_file_names(setup):
    root, _, one, three = setup
    plan = store.read_plan(store.current(root / "three"))
    assert plan.shards == 3 and len(set(plan.segment_shards)) == 3
    for i, part in enumerate(three.saved_segments):
        assert {shards.shard_of(d.path, 3) for d in part.documents} == {plan.shard(i)}
    # The statistics are the whole index's, as one shard's would be.
    assert three.index.stats == one.index.stats
    assert isinstance(three.ranker, ShardedRanker)


def test_three_shards_answer_every_question_as_one_index_does(setup):
    _, questions, one, three = setup
    assert len(questions) > 800
    differ = [q for q in questions if answered(one, q) != answered(three, q)]
    assert differ == []


def test_a_document_filter_and_a_conversation_are_answered_alike(setup):
    _, questions, one, three = setup
    only = ["al-hasakah-city-offensive", "twins-copy"]
    for question in questions[:24]:
        assert answered(one, question, documents=only) == answered(three, question, documents=only)
    history = questions[:2]
    assert answered(one, "and after that?", history=history) == answered(
        three, "and after that?", history=history
    )


def test_tied_sentences_are_cited_in_corpus_order(setup):
    _, _, one, three = setup
    # The twin's sentences tie with the original's: the file listed first is cited first.
    question = "Who captured the Al-Hasakah city?"
    for engine in (one, three):
        cited = [c["document"]["id"] for c in answered(engine, question)["citations"]]
        assert cited.index("al-hasakah-city-offensive") < cited.index("twins-copy")


def test_an_update_writes_only_the_changed_files_shard(setup, tmp_path):
    root, questions, _, _ = setup
    corpus = tmp_path / "corpus"
    shutil.copytree(root / "corpus", corpus)
    Engine.open(corpus, tmp_path / "three", shards=3)
    before = store.read_plan(store.current(tmp_path / "three"))
    changed = "article-1/part-00.txt"
    path = corpus / changed
    path.write_text(path.read_text("utf-8") + "\nThe gauge read nine metres.\n", "utf-8")
    three = Engine.open(corpus, tmp_path / "three")
    after = store.read_plan(store.current(tmp_path / "three"))
    assert three.summary.line() == "+0 ~1 -0"
    home = shards.shard_of(changed, 3)
    new = [i for i, name in enumerate(after.segments) if name not in before.segments]
    assert [after.shard(i) for i in new] == [home]
    kept = {n: g for n, g in zip(before.segments, before.deleted, strict=True)}
    for i, name in enumerate(after.segments):
        if after.shard(i) != home:
            assert name in kept and after.deleted[i] == kept[name]
    fresh = Engine.open(corpus, tmp_path / "one")
    assert three.index.stats == fresh.index.stats
    for question in questions[::40] + ["How many metres did the gauge read?"]:
        assert answered(three, question) == answered(fresh, question)


def test_qa_index_splits_an_index_and_reads_every_file_again(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(DEFAULT_CORPUS, corpus)
    runner = CliRunner()
    args = ["index", "--corpus", str(corpus), "--index", str(tmp_path / "index")]
    assert runner.invoke(main, args).exit_code == 0
    split = runner.invoke(main, [*args, "--shards", "2"])
    assert split.exit_code == 0, split.output
    assert "Files: +2 ~0 -0" in split.output
    assert store.read_plan(store.current(tmp_path / "index")).shards == 2
    again = runner.invoke(main, args)  # it stays split
    assert "Files:" not in again.output
    assert store.read_plan(store.current(tmp_path / "index")).shards == 2
    assert runner.invoke(main, [*args, "--shards", "0"]).exit_code == 2


def test_the_shard_of_a_name_is_stable():
    # Fixed for good: a change would move the files of every saved index to other shards.
    assert [shards.shard_of(f"reports/{n}.txt", 4) for n in range(8)] == [1, 2, 1, 0, 1, 1, 1, 2]
    counts = np.bincount([shards.shard_of(f"doc-{n}.txt", 4) for n in range(4000)], minlength=4)
    assert counts.min() > 900
    assert shards.shard_of("anything.txt", 1) == 0


@pytest.mark.skipif(not semantic.available(), reason="the semantic extra is not installed")
def test_with_the_semantic_stage_shards_answer_as_one_index_does(setup):
    _, questions, one, three = setup
    one.use_semantic(True)
    # The same vectors, row for row by passage: vectors computed in other batches differ in
    # their last bits (qa.semantic.encoder), which would move ties between the twins.
    three.ranker.vectors = vectors_as_in(one, three)
    try:
        nearest_only = 0
        for question in questions[::4]:
            assert answered(one, question) == answered(three, question), question
            search = one.answerer.search(question)
            nearest = set(one.ranker.nearest(search.asks, None).tolist())
            assert nearest <= set(one.answerer.rank(search).rows.tolist())
            found = one.index.retrieve(search.query.weights, rank.CANDIDATES)[0]
            nearest_only += len(nearest - set(one.ranker.candidates(found, None).tolist()))
        # Passages that only the semantic stage found were asked of the shards that hold them.
        assert nearest_only > 0
        only = ["al-hasakah-city-offensive", "twins-copy"]
        for question in questions[:24]:
            asked = {"documents": only}
            assert answered(one, question, **asked) == answered(three, question, **asked)
    finally:
        one.use_semantic(False)
        three.use_semantic(False)


def vectors_as_in(source: Engine, target: Engine) -> Vectors:
    """The source's passage vectors, in the target's rows."""
    rows = {p.id: i for i, p in enumerate(source.passages)}
    order = np.array([rows[p.id] for p in target.passages])
    found = source.ranker.vectors
    return Vectors(found.codes[order], found.scales[order])
