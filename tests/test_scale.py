"""The pieces that make a million sentences fast: top-k retrieval, arrays, parallel reading."""

import json
import random
import shutil
import threading
from collections import Counter
from itertools import chain

import numpy as np
import pytest

from qa.answer.engine import Engine
from qa.common.codes import Coder, Decoder, Tally, Total
from qa.common.forks import Forked
from qa.common.vocabulary import Vocabulary
from qa.index import build as build_module
from qa.index import disk, segments, store
from qa.index.bm25 import BM25Index
from qa.index.build import indexed_tokens, read_and_count, read_corpus
from qa.index.counting import TermCounter, TermCounts
from qa.ingest.corpus import fingerprint
from qa.ingest.passages import PassageTable
from tests.helpers import DEFAULT_CORPUS, zipf_corpus


def brute_force(index: BM25Index, query, k: int, mask=None) -> tuple[list[int], list[float]]:
    """The k best positive scores of the dense score vector, ties to the earlier row."""
    scores = index.scores(query)
    if mask is not None:
        scores = np.where(mask, scores, 0.0)
    rows = sorted(np.flatnonzero(scores > 0).tolist(), key=lambda r: (-scores[r], r))[:k]
    return rows, [scores[r] for r in rows]


@pytest.fixture(scope="module")
def index() -> BM25Index:
    corpus = zipf_corpus(3000)
    corpus += corpus[:500]  # repeated passages tie, which tests the order of ties
    return BM25Index().index(corpus)


@pytest.mark.parametrize("k", [1, 3, 10, 50])
def test_retrieve_is_the_brute_force_top_k(index, k):
    rng = random.Random(k)
    for _ in range(60):
        query = rng.choices([f"t{i}" for i in range(60)], k=rng.randint(1, 6))
        rows, scores = index.retrieve(query, k)
        expected_rows, expected_scores = brute_force(index, query, k)
        assert rows.tolist() == expected_rows
        assert scores.tolist() == expected_scores  # the same sums, bit for bit


def test_retrieve_with_a_mask_and_weights_is_the_brute_force_top_k(index):
    rng = np.random.default_rng(3)
    mask = rng.random(index.size) < 0.3
    query = {"t1": 1.0, "t7": 0.5, "t30": 0.25, "unknown": 2.0}
    rows, scores = index.retrieve(query, 20, mask)
    assert (rows.tolist(), scores.tolist()) == brute_force(index, query, 20, mask)


def test_retrieve_leaves_no_score_behind(index):
    index.retrieve(["t1", "t2"], 5)
    rows, _ = index.retrieve(["t999"], 5)
    assert rows.tolist() == brute_force(index, ["t999"], 5)[0]


def test_vocabulary_maps_each_term_to_its_column_and_nothing_else():
    terms = ["kobani", "hasakah", "4000", "a", "ypg", "", "straße"]
    vocabulary, column = Vocabulary.build(terms)
    assert sorted(column.tolist()) == list(range(len(terms)))
    assert {t: vocabulary[t] for t in terms} == dict(zip(terms, column.tolist(), strict=True))
    assert [vocabulary.term(int(c)) for c in column] == terms
    assert vocabulary.get("isil") is None and "isil" not in vocabulary and "a" in vocabulary
    with pytest.raises(KeyError):
        vocabulary["isil"]


def test_term_counts_are_each_passage_counter():
    corpus = zipf_corpus(200)
    counts = TermCounts.concat([TermCounts.of(corpus[:80]), TermCounts.of(corpus[80:])])
    bounds = np.concatenate([[0], np.cumsum(counts.distinct)])
    for row, terms in enumerate(corpus):
        at = slice(bounds[row], bounds[row + 1])
        found = {
            counts.terms[i]: int(c)
            for i, c in zip(counts.term_ids[at], counts.counts[at], strict=True)
        }
        assert found == Counter(terms) and counts.lengths[row] == len(terms)


def passage_counters(counts: TermCounts) -> list[dict[str, int]]:
    """Each passage's terms and their counts, whatever the order of a passage's terms."""
    bounds = np.concatenate([[0], np.cumsum(counts.distinct)]).tolist()
    ids, tfs = counts.term_ids.tolist(), counts.counts.tolist()
    return [
        {counts.terms[i]: tf for i, tf in zip(ids[a:b], tfs[a:b], strict=True)}
        for a, b in zip(bounds, bounds[1:], strict=False)
    ]


def test_term_counts_of_chunks_counted_by_one_counter_are_the_counts_at_once():
    corpus = zipf_corpus(300)
    counter = TermCounter(list)
    parts = [counter.counts(corpus[i : i + 50]) for i in range(0, 300, 50)]
    assert sum(len(p.terms) for p in parts) == len(set(chain(*corpus)))  # each term told once
    joined, at_once = TermCounts.concat(parts), TermCounts.of(corpus)
    assert joined.terms == at_once.terms
    assert passage_counters(joined) == passage_counters(at_once)


def chunks_of_words(seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(300)]
    return [rng.choices(words, [1 / (r + 1) for r in range(300)], k=60) for _ in range(40)]


@pytest.mark.parametrize("seed", range(5))
def test_coders_taking_turns_decode_to_the_numbering_of_first_use(seed):
    chunks, rng = chunks_of_words(seed), random.Random(seed)
    coders, decoder, tallies = [Coder(), Coder(), Coder()], Decoder(), []
    for chunk in chunks:  # each chunk to any coder, each coder's chunks in corpus order
        tally = Tally.of(chunk, rng.choice(coders))
        numbers = decoder.decode(tally.numbering)[tally.numbers].tolist()
        assert [decoder.all_strings().strings[n] for n in numbers] == list(dict.fromkeys(chunk))
        tallies.append(tally)
    assert decoder.all_strings().strings == list(dict.fromkeys(chain(*chunks)))
    total = Total()
    for tally in tallies:
        total.add(tally)
    assert list(total.counter().items()) == list(Counter(chain(*chunks)).items())


def test_a_coders_strings_out_of_order_are_refused():
    coder, decoder = Coder(), Decoder()
    coder.numbers(["a", "b"])
    first = coder.new_strings()
    coder.numbers(["c"])
    with pytest.raises(ValueError, match="out of order"):
        decoder.decode(coder.new_strings())
    assert decoder.decode(first).tolist() == [0, 1]


def fail(message: str) -> None:
    raise LookupError(message)


def test_a_forked_child_gives_its_result_or_its_exception():
    assert Forked(sum, [1, 2, 3]).result() == 6
    with pytest.raises(LookupError, match="no such thing"):
        Forked(fail, "no such thing").result()


def test_with_threads_running_nothing_is_forked():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        work = Forked(threading.get_ident)
        assert work.result() == threading.get_ident()  # computed here, when asked for
    finally:
        stop.set()
        thread.join()


def test_parallel_reading_gives_what_serial_reading_gives(tmp_path, monkeypatch):
    for copy in range(3):
        shutil.copytree(DEFAULT_CORPUS, tmp_path / f"part{copy}")
    (tmp_path / "part1" / "empty.txt").write_text("", "utf-8")
    monkeypatch.setattr(build_module, "CHUNK_BYTES", 1)  # a chunk per file, for the workers
    serial, serial_counts = read_and_count(tmp_path, indexed_tokens, workers=1)
    parallel, parallel_counts = read_and_count(tmp_path, indexed_tokens, workers=2)
    assert [d.id for d in parallel.documents] == [d.id for d in serial.documents]
    assert parallel.skipped == serial.skipped and len(serial.skipped) == 1
    assert parallel.fingerprint == serial.fingerprint == fingerprint(tmp_path)
    assert list(parallel.passages()) == list(serial.passages())
    for name in ("lengths", "distinct", "counts"):
        assert getattr(parallel_counts, name).tolist() == getattr(serial_counts, name).tolist()
    assert parallel_counts.terms == serial_counts.terms
    assert list(parallel.words.items()) == list(serial.words.items())


def test_passage_table_saves_and_loads_memory_mapped(tmp_path):
    corpus = read_corpus(DEFAULT_CORPUS)
    corpus.table.save(tmp_path)
    ids = [d.id for d in corpus.documents]
    loaded = PassageTable.load(tmp_path, corpus.table.strings, ids)
    assert list(loaded) == list(corpus.passages())
    assert not loaded.columns["text"].flags.writeable  # a view of the file, shared by processes
    document = loaded.document(1)
    assert document[-1] == document[len(document) - 1] and document[:2] == list(document)[:2]
    with pytest.raises(IndexError):
        document[len(document)]


def test_an_index_of_another_format_is_rebuilt(tmp_path, monkeypatch):
    index = tmp_path / "index"
    Engine.open(DEFAULT_CORPUS, index)
    monkeypatch.setattr(store, "FORMAT", store.FORMAT + 1)
    with pytest.raises(store.IndexUnusable, match="another format"):
        store.load(index)


def test_a_manifest_that_leaves_out_a_file_is_not_trusted(tmp_path):
    index = tmp_path / "index"
    engine = Engine.open(DEFAULT_CORPUS, index)
    (part,) = engine.saved_segments
    record = json.loads((part.folder / segments.SEGMENT).read_text("utf-8"))
    del record["checksums"]["passages-text.npy"]
    with pytest.raises(store.IndexUnusable, match="does not list"):
        disk.verify(part.folder, record["checksums"], "a segment", segments.FILES)
    assert sorted(p.name for p in index.iterdir()) == sorted(
        [store.POINTER, segments.FOLDER, engine.version_dir.name]
    )  # no staging left
    assert engine.index.parts[0].tf.flags.writeable is False
