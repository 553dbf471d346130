"""`qa index` against `qa index --cluster`, side by side:
`python -m qa.tools.bench_cluster_build [--sentences N] [--nodes K] [--shards S] [--rounds R]`.

Generates a corpus of N sentences (qa.tools.synthetic; in --work, a temporary folder unless
given, where it is kept for the next run), starts a
local Ray cluster of K one-CPU nodes on 127.0.0.1, and runs `qa index --rebuild --shards S` as a
user does (a fresh process), locally and with `--cluster`, alternated R times. Prints each run's
seconds and the CPU seconds of the `qa index` process (with its children: a local build's
workers; on the cluster, the joining and writing left to it), the medians, and whether the two
builds wrote the same bytes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qa.tools import synthetic
from qa.tools.bench import index_digest
from qa.tools.serving import local_ray


def timed_index(command: list[str]) -> tuple[float, float]:
    """Seconds and CPU seconds of one `qa index` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return took, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1_000_000)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path)
    given = parser.parse_args()
    with contextlib.ExitStack() as held:
        given.work = given.work or Path(held.enter_context(tempfile.TemporaryDirectory()))
        measure(given)


def measure(given: argparse.Namespace) -> None:
    """The runs, and what they show."""
    corpus = given.work / f"corpus-{given.sentences}"
    if not corpus.exists():
        synthetic.generate(corpus, given.sentences, questions=1)
    index = [sys.executable, "-m", "qa.cli", "index", "--corpus", str(corpus), "--rebuild"]
    index += ["--shards", str(given.shards)]
    runs: dict[str, list[tuple[float, float]]] = {"local": [], "cluster": []}
    with local_ray(given.nodes) as cluster:
        for round in range(given.rounds):
            for kind, extra in (("local", []), ("cluster", ["--cluster", cluster.address])):
                took, cpu = timed_index([*index, "--index", str(given.work / kind), *extra])
                runs[kind].append((took, cpu))
                print(f"round {round + 1} {kind}: {took:.2f} s, {cpu:.2f} CPU s", flush=True)
    for kind, measured in runs.items():
        took, cpu = (statistics.median(m[i] for m in measured) for i in (0, 1))
        print(f"{kind}: median {took:.2f} s, {cpu:.2f} CPU s of the qa index process")
    same = index_digest(given.work / "local") == index_digest(given.work / "cluster")
    print(f"same bytes: {'yes' if same else 'NO'}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
