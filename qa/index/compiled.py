"""Retrieval's inner loop, compiled by Numba: the postings of a query's terms added up and the
best rows found in one pass over them, where NumPy makes a pass (and an array) per step.

Imported when a question is first retrieved, not by `qa index`: Numba takes a few tenths of a
second to import. The compiled code is cached beside this file (or in Numba's cache folder
when that one cannot be written), so only the first process compiles it.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def best_postings(rows, tfs, starts, idfs, factors, norm, k1, buffer, mask, masked, k):
    """The distinct rows among `rows` whose summed BM25 weights are positive (and in `mask`
    when `masked`) and at least the k-th best, with those sums; `buffer` is zero, and left so.

    `rows[starts[t]:starts[t + 1]]` are term t's postings and `tfs` their counts; each weight,
    idf * tf * (k1 + 1) / (tf + norm[row]), counts `factors[t]` times, and each row's sum adds
    them in the terms' order: the same operations in the same order as BM25Okapi's, so the
    same floats.
    """
    k1_plus_1 = k1 + 1
    for t in range(len(factors)):
        factor, idf = factors[t], idfs[t]
        for i in range(starts[t], starts[t + 1]):
            row = rows[i]
            tf = np.float64(tfs[i])
            buffer[row] += factor * (idf * (tf * k1_plus_1 / (tf + norm[row])))
    found = np.empty(len(rows), np.int64)
    sums = np.empty(len(rows))
    n = 0
    for i in range(len(rows)):
        row = rows[i]
        total = buffer[row]
        if total != 0.0:  # a row's first posting here: read it, and clear it for the next query
            buffer[row] = 0.0
            if total > 0.0 and (not masked or mask[row]):
                found[n], sums[n] = row, total
                n += 1
    if n <= k:
        return found[:n], sums[:n]
    kth = np.partition(sums[:n], n - k)[n - k]
    kept = 0
    for i in range(n):
        if sums[i] >= kth:
            found[kept], sums[kept] = found[i], sums[i]
            kept += 1
    return found[:kept], sums[:kept]
