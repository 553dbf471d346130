"""The semantic encoder's speed: `python -m qa.tools.bench_encoder [CORPUS] [--sentences N]`.

CORPUS is a folder of documents or a SQuAD .json file (its articles become the documents).

Prints encode([question]) p50 and p95 over the seeds questions (tests/data/seeds-dev.jsonl),
one question at a time as the engine asks, and the sentences a second of encoding CORPUS's
first N sentences together, as indexing does (the median of three runs).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from qa.answer.engine import Engine
from qa.semantic.encoder import encoder
from qa.tools.evaluate import is_squad, read_squad, write_corpus

SEEDS = Path(__file__).resolve().parents[2] / "tests" / "data" / "seeds-dev.jsonl"
ROUNDS = 20


def question_ms(questions: list[str], rounds: int = ROUNDS) -> tuple[float, float]:
    """p50 and p95 milliseconds of encoding one question."""
    model, seconds = encoder(), []
    for _ in range(rounds):
        for question in questions:
            start = time.perf_counter()
            model.encode([question])
            seconds.append(time.perf_counter() - start)
    return float(np.median(seconds) * 1e3), float(np.percentile(seconds, 95) * 1e3)


def sentences_per_second(texts: list[str], runs: int = 3) -> float:
    """Texts encoded a second, all at once, the median of runs."""
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        encoder().encode(texts)
        seconds.append(time.perf_counter() - start)
    return len(texts) / float(np.median(seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, nargs="?", default=Path("corpus"))
    parser.add_argument("--sentences", type=int, default=2000)
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in SEEDS.read_text("utf-8").splitlines()]
    encoder().encode(questions)  # loaded and warm
    p50, p95 = question_ms(questions)
    print(f"encode([question]): p50 {p50:.2f} ms, p95 {p95:.2f} ms ({len(questions)} questions)")
    with tempfile.TemporaryDirectory() as scratch:
        corpus = args.corpus
        if is_squad(corpus):
            corpus = Path(scratch, "corpus")
            corpus.mkdir()
            write_corpus(read_squad(args.corpus)[0], corpus)
        engine = Engine.open(corpus, Path(scratch, "index"), semantic=False)
        texts = [p.text for p in engine.passages][: args.sentences]
    print(f"{len(texts)} sentences together: {sentences_per_second(texts):.1f} sentences/s")


if __name__ == "__main__":
    main()
