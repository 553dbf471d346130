"""The optional semantic stage: skipped where its extra is not installed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qa.answer.engine import Engine
from qa.cli import main
from qa.semantic import encoder as semantic
from qa.semantic import vectors as store
from qa.tools.evaluate import first_hit
from tests.helpers import DEFAULT_CORPUS

pytestmark = pytest.mark.skipif(
    not semantic.available(), reason="the semantic extra is not installed"
)
DATA = Path(__file__).parent / "data"
REFERENCE = DATA / "minilm-reference.json"
SEEDS = [json.loads(line) for line in (DATA / "seeds-dev.jsonl").read_text("utf-8").splitlines()]


def test_vectors_are_sentence_transformers_own():
    reference = json.loads(REFERENCE.read_text("utf-8"))
    vectors = semantic.encoder().encode(reference["sentences"])
    assert vectors.shape == (len(reference["sentences"]), semantic.DIMENSIONS)
    assert np.abs(vectors - np.array(reference["vectors"])).max() < 1e-5


def test_vectors_do_not_depend_on_the_batch():
    texts = ["One of them drove a tanker.", "x " * 400, "Who recaptured the prison?"]
    together = semantic.encoder().encode(texts)
    alone = np.vstack([semantic.encoder().encode([t]) for t in texts])
    assert np.abs(together - alone).max() < 1e-5
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_erf_is_scipy_s_to_a_float32_rounding():
    from scipy.special import erf

    x = np.linspace(-10, 10, 400_001, dtype=np.float32)
    ours = semantic.erf(x)
    assert ours.dtype == np.float32
    assert np.abs(ours - erf(x)).max() <= 1e-7
    assert np.abs(ours.astype(np.float64) - erf(x.astype(np.float64))).max() <= 1e-7


def test_gelu_is_the_exact_one_in_place():
    from scipy.special import erf

    x = np.linspace(-12, 12, 96_000, dtype=np.float32).reshape(-1, 64)  # rows past one chunk
    exact = 0.5 * x.astype(np.float64) * (1 + erf(x.astype(np.float64) / np.sqrt(2)))
    small = np.abs(x) < 1
    out = semantic._gelu(x)
    assert out is x and out.dtype == np.float32
    # float32 itself rounds a value of 12 by 4.8e-7
    assert np.abs(out - exact).max() <= 1e-6
    assert np.abs(out - exact)[small].max() <= 1e-7


def test_the_network_stays_in_float32():
    """A float64 array or scalar anywhere would double the cost of what follows it."""
    model = semantic.encoder()
    ids = model.tokenizer.encode("How many troops died?").ids
    x = model.w["embeddings.word_embeddings.weight"][np.array(ids)]
    assert x.dtype == np.float32
    assert model._norm(x.copy(), "embeddings.LayerNorm").dtype == np.float32
    assert all(w.dtype == np.float32 and b.dtype == np.float32 for w, b in model.qkv)
    for blocked in (None, np.zeros((1, 1, 1, len(ids)), np.float32)):
        assert model._attention(x, 0, 1, blocked).dtype == np.float32
        assert model._layer(x.copy(), 0, 1, blocked).dtype == np.float32
    assert model._forward([ids]).dtype == np.float32
    assert model._forward([ids, ids[:3]]).dtype == np.float32


def test_no_texts_no_vectors():
    assert semantic.encoder().encode([]).shape == (0, semantic.DIMENSIONS)


def test_eight_bit_vectors_keep_the_cosines():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(200, semantic.DIMENSIONS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    stored = store.quantize(vectors)
    assert stored.codes.dtype == np.int8 and stored.codes.nbytes == 200 * semantic.DIMENSIONS
    query = vectors[0]
    assert np.abs(stored.at(np.arange(200)) @ query - vectors @ query).max() < 0.01


def test_vectors_are_made_with_the_index_kept_and_kept_in_step(corpus, tmp_path):
    engine = Engine.open(corpus, tmp_path / "index", semantic=True)
    vectors = engine.ranker.vectors
    assert vectors is not None and len(vectors) == len(engine.passages)
    assert (engine.version_dir / store.FOLDER / store.CODES).exists()
    # Loaded again: the saved vectors, nothing computed.
    again = Engine.open(corpus, tmp_path / "index", semantic=True)
    assert again.vector_seconds == 0.0 and np.array_equal(again.ranker.vectors.codes, vectors.codes)
    # A new sentence makes a new version, whose vectors hold it; the others are reused.
    (corpus / "new.txt").write_text("= Harvest =\n\nThe farmers brought in the wheat.\n", "utf-8")
    changed = Engine.open(corpus, tmp_path / "index", semantic=True)
    assert changed.version_dir != engine.version_dir
    assert len(changed.ranker.vectors) == len(changed.passages) == len(engine.passages) + 1
    texts = [p.text for p in changed.passages]
    row = texts.index("The farmers brought in the wheat.")
    # Made of its document's title and its text.
    fresh = semantic.encoder().encode(["Harvest. The farmers brought in the wheat."])[0]
    assert changed.ranker.vectors.at(np.array([row]))[0] @ fresh > 0.99
    untitled = semantic.encoder().encode([texts[row]])[0]
    assert changed.ranker.vectors.at(np.array([row]))[0] @ untitled < 0.99


def test_vectors_made_another_way_are_made_again(corpus, tmp_path):
    engine = Engine.open(corpus, tmp_path / "index", semantic=True)
    saved = engine.version_dir / store.FOLDER
    (saved / store.RECIPE_FILE).write_text("{text}", "utf-8")
    again = Engine.open(corpus, tmp_path / "index", semantic=True)
    assert again.vector_seconds > 0
    assert (saved / store.RECIPE_FILE).read_text("utf-8") == store.RECIPE
    assert np.array_equal(again.ranker.vectors.codes, engine.ranker.vectors.codes)


def test_without_the_semantic_stage_nothing_is_computed(corpus, tmp_path):
    engine = Engine.open(corpus, tmp_path / "index", semantic=False)
    assert engine.ranker.vectors is None
    assert not (engine.version_dir / store.FOLDER).exists()


@pytest.fixture(scope="module")
def meaning(tmp_path_factory) -> Engine:
    """The default corpus with the semantic stage on."""
    return Engine.open(DEFAULT_CORPUS, tmp_path_factory.mktemp("semantic"), semantic=True)


def test_a_question_in_other_words_is_answered(meaning):
    result = meaning.ask("How many troops died when the tanker was blown up?")
    assert not result.abstained
    assert "drove a tanker, killing nine soldiers" in result.citations[0].text


@pytest.mark.parametrize(
    "case", [q for q in SEEDS if q["type"] == "abstain"], ids=lambda q: q["id"]
)
def test_unanswerable_seed_questions_still_abstain(meaning, case):
    assert meaning.ask(case["question"]).abstained


def test_answerable_seed_questions_are_answered(meaning):
    for case in SEEDS:
        if case["type"] in ("factoid", "paraphrase"):
            result = meaning.ask(case["question"])
            assert not result.abstained, case["question"]
            texts = [c.text for c in result.citations[:3]]
            assert first_hit(texts, case["answers"]) is not None, case["question"]


def test_the_encoder_bench_times_what_it_says():
    from qa.tools import bench_encoder

    p50, p95 = bench_encoder.question_ms(["Who recaptured the prison?"] * 3, rounds=2)
    assert 0 < p50 <= p95
    assert bench_encoder.sentences_per_second(["One.", "Two words."], runs=1) > 0
    assert bench_encoder.SEEDS.exists()


def test_the_nearest_vectors_are_found_among_the_allowed_rows():
    vectors = np.random.default_rng(7).normal(size=(300, semantic.DIMENSIONS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    stored = store.quantize(vectors)
    question = vectors[10] + 0.5 * vectors[20]
    cosines = vectors @ question
    assert stored.nearest(question, 5, None).tolist() == np.argsort(-cosines)[:5].tolist()
    allowed = np.ones(300, bool)
    allowed[[10, 20]] = False
    found = stored.nearest(question, 5, allowed)
    assert 10 not in found and 20 not in found and len(found) == 5
    assert stored.nearest(question, 5, np.zeros(300, bool)).tolist() == []
    assert len(stored.nearest(question, 500, None)) == 300


def test_passages_near_the_question_in_meaning_join_its_candidates(meaning):
    question = "How many troops died when the tanker was blown up?"
    search = meaning.answerer.search(question)
    nearest = meaning.ranker.nearest(search.asks, None)
    ranking = meaning.answerer.rank(search)
    assert set(nearest.tolist()) <= set(ranking.rows.tolist())
    # Among them, passages that share no word with the question, which BM25 alone never finds.
    shared = {row: bool(ranking.present[i].any()) for i, row in enumerate(ranking.rows.tolist())}
    assert any(not shared[row] for row in nearest.tolist())
    # A document filter holds for them too.
    only = meaning.library.mask(["al-hasakah-city-offensive"])
    assert only[meaning.ranker.nearest(search.asks, only)].all()


def test_eval_reports_the_semantic_stage_beside_qa_and_what_its_vectors_cost(tmp_path):
    env = {"QA_INDEX": str(tmp_path / "index"), "QA_CORPUS": str(DEFAULT_CORPUS)}
    result = CliRunner().invoke(
        main, ["eval", str(DATA / "seeds-dev.jsonl"), "--semantic"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "| all | qa + semantic | 24 |" in result.output
    assert "\nqa + semantic over qa: hit@1 " in result.output
    cost = re.search(
        r"took [\d.]+ s to compute at indexing \((\d+) passages/s\) and (\d+) MB", result.output
    )
    assert cost and int(cost[1]) > 0
    # 384 one-byte codes, a float32 scale and an 8-byte digest a passage, and the files' headers.
    assert 396 <= int(cost[2]) < 410
