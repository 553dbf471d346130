"""Fitting the re-ranker's model on SQuAD: `python -m qa.tools.fit SQUAD.json [--split even]`.

For every question, the engine's candidates and their features are gathered exactly as when it
answers; a candidate is right when it holds one of the answers. The weights maximize, under a
softmax over each question's candidates, the likelihood that the candidate drawn is one of the
right ones (a listwise logistic regression, with a little L2 to keep weights small), found with
scipy's L-BFGS. That is what a hit is: any sentence holding the answer will do, so the model is
not asked to spread its probability evenly over all of them (the likelihood of every right
candidate, fitted before, did).

Then the answerability model, which decides when the documents do not hold the answer: a
logistic regression over each question's `rank.evidence` (what its ranking shows: how much of
the question the best candidates hold, the best one's features). Its answerable
examples are the questions asked of the whole corpus; its unanswerable ones are the same
questions asked of the corpus without their own article (a question about what the documents
never mention), leaving out those whose best candidate still holds an answer. Its threshold is
calibrated so that at most ABSTAIN_RATE of the answerable questions abstain.
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
# The answerability model's L2 penalty, and the share of the answerable questions of the fit that
# it may send away as "not in the documents".
EVIDENCE_L2 = 1e-3
ABSTAIN_RATE = 0.0025


Group = tuple[np.ndarray, np.ndarray]


def gather(
    engine: Engine, questions: Sequence[Question], masks: Sequence[np.ndarray | None] = ()
) -> list[Group]:
    """(features, right) of every question's candidates, each searched within its mask (all
    the corpus without one)."""
    ranker = engine.ranker
    groups = []
    for q, mask in zip(questions, masks or [None] * len(questions), strict=True):
        # The question searched as the engine searches it: spellings and names rewritten.
        search = engine.answerer.search(q.question, q.history)
        hits = ranker.hits(search.query, search.asks, mask, ranker.nearest(search.asks, mask))
        if not len(hits.scores):
            continue
        rows = hits.rows
        right = np.array(
            [first_hit([engine.passages[int(r)].text], q.answers) is not None for r in rows]
        )
        features = ranker.finished(hits.features, search.asks, rows, hits.start, hits.end)
        groups.append((features, right))
    return groups


def informative(groups: Sequence[Group]) -> list[Group]:
    """The groups with both right and wrong candidates: the ones the ranker learns from."""
    return [(x, right) for x, right in groups if right.any() and not right.all()]


def evidence(groups: Sequence[Group], weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each group's rank.evidence under the ranker's weights, and whether its best is right."""
    rows, best_right = [], []
    for x, right in groups:
        scores = x @ weights
        best = int(np.lexsort((np.arange(len(scores)), -scores))[0])
        rows.append(rank.evidence(x, best))
        best_right.append(bool(right[best]))
    return np.array(rows), np.array(best_right)


def fit_abstention(
    answerable: np.ndarray, unanswerable: np.ndarray, rate: float = ABSTAIN_RATE
) -> tuple[np.ndarray, float]:
    """Weights and bias of a logistic regression telling answerable evidence from unanswerable,
    the bias moved so that a `rate` share of the answerable scores falls below zero."""
    x = np.vstack([answerable, unanswerable])
    y = np.r_[np.ones(len(answerable)), np.zeros(len(unanswerable))]
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    a = np.c_[(x - mean) / scale, np.ones(len(x))]

    def loss(b: np.ndarray) -> tuple[float, np.ndarray]:
        z = a @ b
        value = (y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)).mean()
        gradient = a.T @ (1 / (1 + np.exp(-z)) - y) / len(a)
        penalty = np.r_[b[:-1], 0.0]
        return value + EVIDENCE_L2 * (penalty @ penalty) / 2, gradient + EVIDENCE_L2 * penalty

    b = minimize(loss, np.zeros(a.shape[1]), jac=True, method="L-BFGS-B").x
    weights = b[:-1] / scale
    bias = b[-1] - weights @ mean
    threshold = np.quantile(answerable @ weights + bias, rate)
    return weights, float(bias - threshold)


def without_own_article(engine: Engine, articles: Sequence[int]) -> list[np.ndarray]:
    """For each question's article number, the mask of every other article's passages."""
    library = engine.answerer.library
    ids = [d.id for d in library.corpus.documents]
    return [~library.mask([ids[a]]) for a in articles]


def fit(groups: Sequence[tuple[np.ndarray, np.ndarray]], l2: float = L2) -> np.ndarray:
    """The weights that maximize each question's probability that its best candidate is a right
    one (the right candidates' summed softmax probability), less an L2 penalty."""
    features = np.vstack([x for x, _ in groups])
    right = np.concatenate([r for _, r in groups]).astype(float)
    starts = np.cumsum([0] + [len(x) for x, _ in groups[:-1]])
    group = np.repeat(np.arange(len(groups)), [len(x) for x, _ in groups])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = features @ w
        z = z - np.maximum.reduceat(z, starts)[group]
        odds = np.exp(z)
        total = np.add.reduceat(odds, starts)
        good = np.add.reduceat(odds * right, starts)
        value = (np.log(total) - np.log(good)).mean() + l2 * (w @ w) / 2
        # The gradient of log(total) - log(good): every candidate's probability, less each
        # right one's share of the right candidates' probability.
        share = odds * right / good[group]
        gradient = features.T @ (odds / total[group] - share) / len(groups) + l2 * w
        return value, gradient

    result = minimize(loss, np.zeros(features.shape[1]), jac=True, method="L-BFGS-B")
    return result.x


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad", type=Path)
    parser.add_argument("--split", choices=("all", "even", "odd"), default="even")
    parser.add_argument("--out", type=Path, help="default: qa/data/ranker(-semantic).json")
    parser.add_argument("--abstain-rate", type=float, default=ABSTAIN_RATE)
    parser.add_argument(
        "--semantic", action="store_true", help="fit the model of the semantic stage"
    )
    args = parser.parse_args(argv)
    out = args.out or (rank.SEMANTIC_MODEL if args.semantic else rank.MODEL)
    articles, questions = read_squad(args.squad, args.split)
    with tempfile.TemporaryDirectory(prefix="qa-fit-") as scratch:
        folder = Path(scratch, "corpus")
        folder.mkdir()
        write_corpus(articles, folder)
        engine = Engine.open(folder, Path(scratch, "index"), semantic=args.semantic)
        features = engine.ranker.model[1]
        groups = gather(engine, questions)
        masks = without_own_article(engine, article_numbers(args.squad, questions))
        elsewhere = gather(engine, questions, masks)
    learned = informative(groups)
    weights = fit(learned)
    answerable, _ = evidence(groups, weights)
    unanswerable, found = evidence(elsewhere, weights)
    evidence_weights, bias = fit_abstention(answerable, unanswerable[~found], args.abstain_rate)
    model = {
        "fitted_on": f"{args.squad.name}, {args.split} articles, {len(learned)} questions",
        "features": list(features),
        "weights": [round(float(w), 6) for w in weights],
        "abstention": {
            "fitted_on": f"{len(answerable)} questions, and {int((~found).sum())} of them asked "
            f"without their article; at most {args.abstain_rate:.2%} of the answerable abstain",
            "evidence": list(rank.evidence_names(features)),
            "weights": [round(float(w), 6) for w in evidence_weights],
            "bias": round(bias, 6),
        },
    }
    out.write_text(json.dumps(model, indent=1) + "\n", "utf-8")
    for name, w in zip(features, weights, strict=True):
        print(f"{name:22s} {w:+.3f}")
    abstained = (unanswerable[~found] @ evidence_weights + bias < 0).mean()
    print(f"abstains on {abstained:.1%} of the questions asked without their article")


def article_numbers(squad: Path, questions: Sequence[Question]) -> list[int]:
    """The number of each question's article in the SQuAD file."""
    data = json.loads(squad.read_text("utf-8"))["data"]
    number = {
        qa["id"]: n for n, item in enumerate(data) for p in item["paragraphs"] for qa in p["qas"]
    }
    return [number[q.id] for q in questions]


if __name__ == "__main__":
    main()
