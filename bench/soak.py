"""A bounded soak of /api/ask on loopback: many clients, mixed questions, every answer checked.

    .venv/bin/python bench/soak.py --seconds 120

Starts real gunicorn from the repository's config (rate limit off: every client is 127.0.0.1),
draws its questions from the corpus it serves (suggestions, phrases of passages, follow-ups with
history, questions scoped to a document, questions it cannot answer, and a small share of
maximal questions made of words never seen before), and sends them from many threads until time
is up. It samples every worker's RSS and PSS from /proc/<pid>/smaps_rollup throughout, and
reports requests, errors, latency percentiles and the memory trend of each worker. The exit
status is 0 only when no request failed, no worker was replaced and no worker's memory grew.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from qa.settings import DEFAULT_CORPUS
from qa.tools import processes, serving
from qa.tools.load import Ask, Load, NovelAsk, Outcome, get, post

# Memory may climb while the first requests touch the index's pages; the trend is measured after.
WARM_UP_SHARE = 0.1
# A worker grew when its median PSS over the last fifth of the run exceeds the first fifth's
# by more than this (MB, or share of the start): allocator noise stays well below either.
GROWTH_MB = 4.0
GROWTH_SHARE = 0.05

TEMPLATES = (
    "What happened {}?",
    "Who was involved in {}?",
    "When did {} happen?",
    "Where was {}?",
    "Tell me about {}.",
    "{}?",
)
FOLLOW_UPS = (
    "Who did that?",
    "What happened next?",
    "And after that?",
    "Where did it happen?",
    "Who was behind it according to {} sources?",
    "What about {}?",
)
UNANSWERABLE = (
    "What is the boiling point of water?",
    "Who painted the Mona Lisa?",
    "How do I bake sourdough bread?",
    "What is the capital of Australia?",
)
WORD = re.compile(r"[^\W\d_][\w'’-]{3,}")


# ---------- the questions ----------


def corpus_asks(base_url: str, rnd: random.Random, novel_share: float = 0.01) -> list[Ask]:
    """A shuffled mix of requests drawn from the served corpus, about 1,000 of them."""
    suggestions = serving.fetch(f"{base_url}/api/suggestions")[2]["suggestions"]
    documents = serving.fetch(f"{base_url}/api/documents")[2]["documents"]
    pool = [
        (doc["id"], phrase) for doc in documents for phrase in phrases(base_url, doc["id"], rnd)
    ]
    makers: list[tuple[float, Callable[[], Ask]]] = [
        (0.10, lambda: post("suggestion", rnd.choice(suggestions))),
        (0.30, lambda: post("passage", rnd.choice(TEMPLATES).format(rnd.choice(pool)[1]))),
        (0.15, lambda: get(rnd.choice(TEMPLATES).format(rnd.choice(pool)[1]), rnd)),
        (0.25, lambda: follow_up(pool, rnd)),
        (0.14, lambda: scoped(pool, rnd)),
        (0.05, lambda: post("unanswerable", rnd.choice(UNANSWERABLE))),
    ]
    asks = [make() for share, make in makers for _ in range(round(share * 1000))]
    asks += [NovelAsk("novel", "POST", "/api/ask")] * round(novel_share * len(asks))
    rnd.shuffle(asks)
    return asks


def phrases(base_url: str, doc_id: str, rnd: random.Random) -> list[str]:
    """A phrase of each passage of the document that has one."""
    passages = serving.fetch(f"{base_url}/api/documents/{quote(doc_id)}")[2]["passages"]
    return [phrase for p in passages if (phrase := passage_phrase(p["text"], rnd))]


def passage_phrase(text: str, rnd: random.Random) -> str | None:
    """Two to four consecutive words of a passage, as a person would quote it."""
    words = WORD.findall(text)
    if len(words) < 2:
        return None
    size = min(len(words), rnd.randint(2, 4))
    start = rnd.randrange(len(words) - size + 1)
    return " ".join(words[start : start + size])


def follow_up(pool: Sequence[tuple[str, str]], rnd: random.Random) -> Ask:
    """A follow-up question with one to three earlier questions from the same document."""
    doc_id, phrase = rnd.choice(pool)
    same = [p for d, p in pool if d == doc_id]
    history = [rnd.choice(TEMPLATES).format(rnd.choice(same)) for _ in range(rnd.randint(1, 3))]
    question = rnd.choice(FOLLOW_UPS).format(phrase.split()[0])
    return post("follow-up", question, history=history)


def scoped(pool: Sequence[tuple[str, str]], rnd: random.Random) -> Ask:
    doc_id, phrase = rnd.choice(pool)
    question = rnd.choice(TEMPLATES).format(phrase)
    return post("scoped", question, documents=[doc_id], k=rnd.randint(1, 20))


# ---------- memory ----------


class MemorySampler:
    """Samples every worker's memory at a fixed interval on a thread, until stopped."""

    def __init__(self, master: int, interval: float) -> None:
        self.master, self.interval = master, interval
        self.samples: dict[int, list[tuple[float, float, float]]] = {}  # pid: (t, rss, pss)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> MemorySampler:
        self._thread.start()
        return self

    def stop(self) -> dict[int, list[tuple[float, float, float]]]:
        self._stop.set()
        self._thread.join(self.interval + 5)
        return self.samples

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            for pid in processes.children(self.master):
                try:
                    memory = processes.memory(pid)
                except OSError:  # the worker ended between listing and reading
                    continue
                self.samples.setdefault(pid, []).append((now, memory["rss"], memory["pss"]))
            self._stop.wait(self.interval)


def trend(samples: Sequence[tuple[float, float, float]]) -> dict[str, Any]:
    """Start, end, first- and last-fifth medians of RSS and PSS, and the PSS slope per minute."""
    fifth = max(1, len(samples) // 5)
    times = [t for t, _, _ in samples]
    out: dict[str, Any] = {"samples": len(samples)}
    for column, name in ((1, "rss_mb"), (2, "pss_mb")):
        values = [s[column] for s in samples]
        out[name] = {
            "start": round(values[0], 1),
            "end": round(values[-1], 1),
            "first_fifth": round(statistics.median(values[:fifth]), 1),
            "last_fifth": round(statistics.median(values[-fifth:]), 1),
        }
    pss = [s[2] for s in samples]
    slope = statistics.linear_regression(times, pss).slope if len(set(times)) > 1 else 0.0
    out["pss_slope_mb_per_min"] = round(slope * 60, 3)
    growth = out["pss_mb"]["last_fifth"] - out["pss_mb"]["first_fifth"]
    out["grew"] = growth > max(GROWTH_MB, GROWTH_SHARE * out["pss_mb"]["first_fifth"])
    return out


# ---------- the report ----------


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (p in 0-100) of the values, 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency(outcomes: Sequence[Outcome]) -> dict[str, float]:
    ms = [(o.end - o.start) * 1000 for o in outcomes]
    return {f"p{p}": round(percentile(ms, p), 1) for p in (50, 90, 99)} | {
        "max": round(max(ms, default=0.0), 1)
    }


def report(
    outcomes: Sequence[Outcome],
    samples: dict[int, list[tuple[float, float, float]]],
    first_workers: Sequence[int],
    measured_from: float,
    seconds: float,
) -> dict[str, Any]:
    """The soak's figures; `ok` says whether it passed."""
    failed = [o for o in outcomes if o.error is not None]
    kinds = sorted({o.kind for o in outcomes})
    workers = {
        pid: trend([s for s in series if s[0] >= measured_from] or series)
        for pid, series in samples.items()
        if pid in first_workers
    }
    replaced = sorted(set(samples) - set(first_workers))
    result = {
        "seconds": round(seconds, 1),
        "requests": len(outcomes),
        "errors": len(failed),
        "error_samples": sorted({o.error for o in failed})[:10],
        "requests_per_second": round(len(outcomes) / seconds, 1) if seconds else 0.0,
        "latency_ms": latency(outcomes),
        "by_kind": {
            kind: {"requests": len(mine), **latency(mine)}
            for kind in kinds
            if (mine := [o for o in outcomes if o.kind == kind])
        },
        "workers": {str(pid): figures for pid, figures in workers.items()},
        "replaced_workers": replaced,
        "memory_grew": any(figures["grew"] for figures in workers.values()),
    }
    result["ok"] = (
        result["requests"] > 0 and not failed and not replaced and not result["memory_grew"]
    )
    return result


def summary(result: dict[str, Any]) -> str:
    """The report as a few lines for people."""
    lat = result["latency_ms"]
    lines = [
        f"{result['requests']} requests in {result['seconds']} s "
        f"({result['requests_per_second']}/s), {result['errors']} errors",
        f"latency ms: p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  max {lat['max']}",
    ]
    for kind, figures in result["by_kind"].items():
        lines.append(
            f"  {kind:<13}{figures['requests']:>7} requests  p50 {figures['p50']} ms"
            f"  p99 {figures['p99']} ms"
        )
    for pid, figures in result["workers"].items():
        rss, pss = figures["rss_mb"], figures["pss_mb"]
        lines.append(
            f"worker {pid}: RSS {rss['start']} -> {rss['end']} MB, PSS {pss['start']} -> "
            f"{pss['end']} MB (fifths {pss['first_fifth']} -> {pss['last_fifth']}), "
            f"slope {figures['pss_slope_mb_per_min']} MB/min{'  GREW' if figures['grew'] else ''}"
        )
    if result["replaced_workers"]:
        lines.append(f"workers replaced during the soak: {result['replaced_workers']}")
    lines += [f"  error: {error}" for error in result["error_samples"]]
    lines.append("OK" if result["ok"] else "FAILED")
    return "\n".join(lines)


def soak(
    server: serving.Gunicorn, seconds: float, clients: int, novel_share: float, seed: int
) -> dict[str, Any]:
    """Runs the load against a ready server while sampling its workers' memory."""
    rnd = random.Random(seed)
    asks = corpus_asks(server.base_url, rnd, novel_share)
    first_workers = processes.children(server.pid)
    sampler = MemorySampler(server.pid, interval=max(0.2, seconds / 200)).start()
    started = time.monotonic()
    # The request limit only guards against a runaway loop: no loopback run gets near it.
    load = Load(server.base_url, asks, clients, seconds, limit=int(seconds * 10_000), seed=seed)
    outcomes = load.start().join()
    elapsed = time.monotonic() - started
    samples = sampler.stop()
    return report(outcomes, samples, first_workers, started + WARM_UP_SHARE * elapsed, elapsed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the load")
    parser.add_argument("--clients", type=int, default=16, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument(
        "--novel-share",
        type=float,
        default=0.01,
        help="share of maximal questions of never-seen words (0 leaves them out)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the report here as JSON")
    args = parser.parse_args(argv)
    with serving.serving_corpus(args.corpus, args.workers, "soak") as server:
        result = soak(server, args.seconds, args.clients, args.novel_share, args.seed)
    print(summary(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
