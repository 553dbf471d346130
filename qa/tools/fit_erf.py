"""Fitting the encoder's error function: `python -m qa.tools.fit_erf` prints its coefficients.

erf(x) is approximated as x P(x²) / Q(x²) on [0, LIMIT] (it is odd, and beyond LIMIT it rounds
to ±1 in float32), with P and Q of DEGREES and Q's constant term 1. The coefficients minimize
the largest error: a linear least-squares fit of x P - erf Q = 0 (Q's previous iterate dividing
each row, so that its residuals are the ratio's), reweighted each round by its own errors
(Lawson's iteration, which tends to the minimax weights).
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf

from qa.semantic.encoder import ERF_LIMIT

DEGREES = (5, 5)
ROUNDS = 200


def fit(
    degrees: tuple[int, int] = DEGREES, limit: float = ERF_LIMIT, rounds: int = ROUNDS
) -> tuple[np.ndarray, np.ndarray, float]:
    """P's and Q's coefficients, constant term first, and the largest error in float64."""
    # Chebyshev points: they crowd at the ends, where a fit's error peaks.
    x = limit * (1 - np.cos(np.linspace(0, np.pi, 40001)[1:])) / 2
    z, target = x * x, erf(x)
    n_p, n_q = degrees
    columns = np.hstack(
        [
            x[:, None] * z[:, None] ** np.arange(n_p + 1),
            -target[:, None] * z[:, None] ** np.arange(1, n_q + 1),
        ]
    )
    scale = np.abs(columns).max(0)  # columns of like size, for lstsq's conditioning
    weights, denominator = np.ones_like(x), np.ones_like(x)
    best = (np.inf, np.empty(0), np.empty(0))
    for _ in range(rounds):
        rows = np.sqrt(weights) / np.abs(denominator)
        solution = np.linalg.lstsq(columns * rows[:, None] / scale, target * rows, rcond=None)[0]
        solution /= scale
        p, q = solution[: n_p + 1], np.concatenate([[1.0], solution[n_p + 1 :]])
        denominator = np.polynomial.polynomial.polyval(z, q)
        error = x * np.polynomial.polynomial.polyval(z, p) / denominator - target
        worst = float(np.abs(error).max())
        if worst < best[0]:
            best = (worst, p, q)
        weights = weights * np.abs(error)
        weights /= weights.sum()
    return best[1], best[2], best[0]


def main() -> None:
    p, q, worst = fit()
    print(f"# largest error in float64: {worst:.2e}")
    print(f"_ERF_P = {tuple(float(c) for c in p)!r}")
    print(f"_ERF_Q = {tuple(float(c) for c in q)!r}")


if __name__ == "__main__":
    main()
