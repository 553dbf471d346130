"""A worker's memory stays bounded whatever questions it is sent."""

from __future__ import annotations

import gc
import random
import tracemalloc

import pytest

from qa.service.app import create_app
from qa.service.validation import MAX_HISTORY
from qa.tools.load import novel_text

WARM_UP = 10
MEASURED = 10
# Each request brings about 1,200 words never seen before; remembering them costs ~2.5 MB here.
MAX_GROWTH = 1024 * 1024


def traced_bytes() -> int:
    gc.collect()  # the test client's requests linger in reference cycles until collected
    return tracemalloc.get_traced_memory()[0]


def test_questions_of_new_words_do_not_grow_memory(engine):
    client = create_app({"TESTING": True, "ENGINE": engine, "RATE_LIMIT": None}).test_client()
    rnd = random.Random(7)

    def ask_novel() -> None:
        turns = [novel_text(rnd) for _ in range(MAX_HISTORY + 1)]
        response = client.post("/api/ask", json={"question": turns[0], "history": turns[1:]})
        if response.status_code != 200:  # a failure of another kind than the one expected
            pytest.fail(f"{response.status_code}: {response.get_data(as_text=True)[:200]}")

    # Whatever a bounded cache would hold is filled first; only growth past that counts.
    for _ in range(WARM_UP):
        ask_novel()
    tracemalloc.start()
    try:
        before = traced_bytes()
        for _ in range(MEASURED):
            ask_novel()
        grown = traced_bytes() - before
    finally:
        tracemalloc.stop()
    assert grown < MAX_GROWTH, f"{grown / 1e6:.1f} MB more after {MEASURED} requests"
