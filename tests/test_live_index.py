"""The live index: files added, changed, renamed and removed become segments and deletions, and
whatever sequence made a version, its scores are BM25Okapi's over its live passages."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from qa.answer.engine import Engine
from qa.answer.model import as_json
from qa.index import segments, store, writer
from qa.index.build import indexed_tokens
from qa.text.analyze import Analyzer
from tests.helpers import QUESTION, ROOT

# Words the analyzer keeps as they are, some common enough to have a negative idf.
WORDS = [
    "river",
    "bridge",
    "castle",
    "market",
    "harbour",
    "valley",
    "tower",
    "garden",
    "forest",
    "meadow",
    "village",
    "soldier",
    "farmer",
    "trader",
    "sailor",
    "miller",
    "weaver",
    "archer",
    "baker",
    "mason",
]
COMMON = ("river", "bridge")


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(2, 9))
    if rng.random() < 0.6:  # a few terms in most passages: their idf is floored
        words.append(rng.choice(COMMON))
    return " ".join(words).capitalize() + "."


def write_file(path: Path, rng: random.Random) -> None:
    paragraphs = [
        " ".join(sentence(rng) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(1, 3))
    ]
    path.write_text(f"= {path.stem.title()} =\n\n" + "\n\n".join(paragraphs) + "\n", "utf-8")
    # A new time whatever the clock's resolution: the change is seen by its size and time.
    stamp = path.stat().st_mtime_ns + rng.randint(1, 10**9)
    os.utime(path, ns=(stamp, stamp))


def update(corpus: Path, index: Path, optimize: bool = False) -> writer.Update:
    with store.writing(index):
        return writer.update(corpus, index, "a test", optimize=optimize)


def assert_scores_are_bm25okapi_of_the_live_passages(index: Path, rng: random.Random) -> None:
    saved = store.load(index)
    analyzer = Analyzer()
    live = [(p, d.title) for d in saved.corpus.documents for p in d.passages]
    reference = BM25Okapi(
        [[t for t in analyzer.token_terms(indexed_tokens(p, title)) if t] for p, title in live]
    )
    rows = np.concatenate(
        [np.arange(d.passages.start, d.passages.stop) for d in saved.corpus.documents]
    )
    dead = np.setdiff1d(np.arange(saved.index.size), rows)
    for _ in range(8):
        query = rng.sample(WORDS, rng.randint(1, 4))
        scores = saved.index.scores(query)
        np.testing.assert_allclose(scores[rows], reference.get_scores(query), rtol=1e-9)
        assert not scores[dead].any()
        best, _ = saved.index.retrieve(query, 5)
        terms = saved.index._query_terms(query)
        every = saved.index._retrieve_all(terms, 5, None)[0].tolist() if terms else []
        assert best.tolist() == every
    assert saved.index.stats.passages == len(live)


@pytest.mark.parametrize("seed", range(4))
def test_any_sequence_of_changes_scores_as_bm25okapi_from_scratch(tmp_path, monkeypatch, seed):
    # Merges after three segments of a tier, so that a short sequence merges too.
    monkeypatch.setattr(writer, "MERGE_FACTOR", 3)
    rng = random.Random(seed)
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    for i in range(3):
        write_file(corpus / f"doc-{i}.txt", rng)
    update(corpus, index)
    made = 3
    for _ in range(14):
        files = sorted(corpus.iterdir())
        action = rng.choice(["add", "add", "change", "remove", "rename", "optimize"])
        if action == "add" or len(files) < 2:
            write_file(corpus / f"doc-{made}.txt", rng)
            made += 1
        elif action == "change":
            write_file(rng.choice(files), rng)
        elif action == "remove":
            rng.choice(files).unlink()
        elif action == "rename":
            path = rng.choice(files)
            path.rename(corpus / f"doc-{made}.txt")
            made += 1
        done = update(corpus, index, optimize=action == "optimize")
        if action == "optimize":
            assert len(store.read_plan(done.version).segments) == 1
            assert not store.read_plan(done.version).deleted[0]
        assert_scores_are_bm25okapi_of_the_live_passages(index, rng)
        listed = sorted(p.name for p in corpus.iterdir())
        assert sorted(Path(d.path).name for d in store.load(index).corpus.documents) == listed


def test_qa_index_reports_and_reads_only_what_changed(corpus, tmp_path):
    index = tmp_path / "index"
    first = Engine.open(corpus, index)
    assert first.summary.line() == "+2 ~0 -0"
    (corpus / "extra.txt").write_text("= Extra =\n\nThe Zorblat fortress fell in 1999.\n", "utf-8")
    path = corpus / "al-hasakah-city-offensive.txt"
    path.write_text(path.read_text("utf-8").replace("Panorama", "Quillbrook"), "utf-8")
    (corpus / "2014-eastern-syria-offensive.txt").rename(corpus / "eastern.txt")
    second = Engine.open(corpus, index)
    assert second.summary.line() == "+1 ~1 -0, 1 renamed"
    assert second.summary.renamed == [("2014-eastern-syria-offensive.txt", "eastern.txt")]
    # One segment holds the three files read; the first, all of it deleted, is dropped.
    (part,) = second.saved_segments
    assert part.name != first.saved_segments[0].name
    assert sorted(d.path for d in part.documents) == sorted(
        ["extra.txt", "al-hasakah-city-offensive.txt", "eastern.txt"]
    )
    (corpus / "extra.txt").unlink()
    third = Engine.open(corpus, index)
    assert third.summary.line() == "+0 ~0 -1"
    assert third.saved_segments == [part]  # loaded once: the same object, its files mapped once
    assert store.read_plan(third.version_dir).deleted == [{2}]
    # A changed file keeps its document's id; a renamed one takes its new name's.
    assert {d.id for d in third.corpus.documents} == {"al-hasakah-city-offensive", "eastern"}
    assert "Quillbrook" in as_json(third.ask(QUESTION))["citations"][0]["text"]


def test_a_touched_file_is_not_read_again(corpus, tmp_path):
    index = tmp_path / "index"
    first = Engine.open(corpus, index)
    path = corpus / "al-hasakah-city-offensive.txt"
    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    again = Engine.open(corpus, index)
    assert again.version_dir == first.version_dir  # nothing read, nothing saved
    assert again.summary is None  # loaded as saved: the content says it is unchanged


def test_removing_every_file_is_refused_and_the_index_kept(corpus, tmp_path):
    index = tmp_path / "index"
    first = Engine.open(corpus, index)
    for path in corpus.iterdir():
        path.unlink()
    with pytest.raises(Exception, match="no usable document"):
        Engine.open(corpus, index)
    assert store.current(index) == first.version_dir


def test_optimize_merges_into_one_segment_without_changing_a_score(corpus, tmp_path):
    index = tmp_path / "index"
    Engine.open(corpus, index)
    for i in range(3):
        (corpus / f"extra-{i}.txt").write_text(f"= Extra {i} =\n\nThe fort {i} fell.\n", "utf-8")
        Engine.open(corpus, index)
    (corpus / "2014-eastern-syria-offensive.txt").unlink()  # a deletion in the first segment
    before = Engine.open(corpus, index)
    assert len(before.saved_segments) == 4
    expected = before.index.scores(["fort", "fell", "checkpoint"])
    after = Engine.open(corpus, index, optimize=True)
    (part,) = after.saved_segments
    assert after.summary.merged == 3
    live = np.concatenate(
        [np.arange(d.passages.start, d.passages.stop) for d in before.corpus.documents]
    )
    np.testing.assert_allclose(after.index.scores(["fort", "fell", "checkpoint"]), expected[live])
    assert as_json(after.ask(QUESTION))["citations"] == as_json(before.ask(QUESTION))["citations"]
    assert part.name in {p.name for p in segments.folder_of(index).iterdir()}


def test_qa_index_watch_keeps_the_index_in_step_with_the_folder(corpus, tmp_path):
    index = tmp_path / "index"
    command = [sys.executable, "-m", "qa.cli", "index", "--watch", "--corpus", corpus]
    watcher = subprocess.Popen(
        [*command, "--index", index], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    # Ends the watcher, and so its output, if the test does not get what it waits for in time.
    deadline = threading.Timer(60, watcher.kill)
    deadline.start()
    try:
        lines = iter(watcher.stdout.readline, "")
        assert any(line.startswith("Watching") for line in lines)
        (corpus / "extra.txt").write_text("= Extra =\n\nThe Zorblat fortress fell in 1999.\n")
        changed = next(line for line in lines if "Files:" in line)
        assert "Files: +1 ~0 -0 -> v-" in changed
        engine = Engine.open(corpus, index)
        assert engine.summary is None  # the watcher's version is current: loaded, not updated
        answer = as_json(engine.ask("When did the Zorblat fortress fall?"))
        assert answer["citations"][0]["document"]["id"] == "extra"
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(30) == 0 and "Stopped watching." in watcher.stdout.read()
    finally:
        deadline.cancel()
        watcher.kill()
        watcher.wait(10)
