"""Fitting the re-ranker's model on SQuAD: `python -m qa.tools.fit SQUAD.json [--split even]`.

For every question, the engine's candidates and their features are gathered exactly as when it
answers; a candidate is right when it holds one of the answers. The weights maximize the
likelihood of the right candidates under a softmax over each question's candidates (a listwise
logistic regression, with a little L2 to keep weights small), found with scipy's L-BFGS.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from qa.answer import rank
from qa.answer.engine import Engine
from qa.tools.evaluate import Question, first_hit, read_squad, write_corpus

L2 = 1e-4


def gather(engine: Engine, questions: Sequence[Question]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(features, right) for each question with both right and wrong candidates."""
    ranker = engine.ranker
    groups = []
    for q in questions:
        # The question searched as the engine searches it: spellings and names rewritten.
        search = engine.answerer.search(q.question, q.history)
        query = search.query
        retrieved, _ = engine.index.retrieve(query.weights, rank.CANDIDATES)
        if not len(retrieved):
            continue
        rows = ranker.candidates(retrieved, None)
        right = np.array(
            [first_hit([engine.passages[int(r)].text], q.answers) is not None for r in rows]
        )
        if right.any() and not right.all():
            groups.append((ranker.features(ranker.terms(query), search.asks, rows), right))
    return groups


def fit(groups: Sequence[tuple[np.ndarray, np.ndarray]], l2: float = L2) -> np.ndarray:
    """The weights that maximize the right candidates' softmax likelihood, less an L2 penalty."""
    features = np.vstack([x for x, _ in groups])
    target = np.concatenate([right / right.sum() for _, right in groups])
    starts = np.cumsum([0] + [len(x) for x, _ in groups[:-1]])
    group = np.repeat(np.arange(len(groups)), [len(x) for x, _ in groups])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = features @ w
        z = z - np.maximum.reduceat(z, starts)[group]
        log_norm = np.log(np.add.reduceat(np.exp(z), starts))[group]
        probability = np.exp(z - log_norm)
        value = -(target * (z - log_norm)).sum() / len(groups) + l2 * (w @ w) / 2
        gradient = features.T @ (probability - target) / len(groups) + l2 * w
        return value, gradient

    result = minimize(loss, np.zeros(features.shape[1]), jac=True, method="L-BFGS-B")
    return result.x


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad", type=Path)
    parser.add_argument("--split", choices=("all", "even", "odd"), default="even")
    parser.add_argument("--out", type=Path, default=rank.MODEL)
    args = parser.parse_args(argv)
    articles, questions = read_squad(args.squad, args.split)
    with tempfile.TemporaryDirectory(prefix="qa-fit-") as scratch:
        folder = Path(scratch, "corpus")
        folder.mkdir()
        write_corpus(articles, folder)
        groups = gather(Engine.open(folder, Path(scratch, "index")), questions)
    weights = fit(groups)
    model = {
        "fitted_on": f"{args.squad.name}, {args.split} articles, {len(groups)} questions",
        "features": list(rank.FEATURES),
        "weights": [round(float(w), 6) for w in weights],
    }
    args.out.write_text(json.dumps(model, indent=1) + "\n", "utf-8")
    for name, w in zip(rank.FEATURES, weights, strict=True):
        print(f"{name:22s} {w:+.3f}")


if __name__ == "__main__":
    main()
