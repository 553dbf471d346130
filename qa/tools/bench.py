"""The `qa bench` benchmark: build, load, memory and latency by corpus size, and HTTP throughput.

Each size gets a generated corpus (qa.tools.synthetic). Building, loading and querying each run in a
fresh process, so that times and memory are those of a real start. rank-bm25's BM25Okapi and
bm25s run on the very same tokens and questions, and gunicorn serves the app to wrk on loopback.
Results go to a Markdown file; nothing here asserts a figure.
"""

from __future__ import annotations

import contextlib
import cProfile
import hashlib
import json
import multiprocessing
import os
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from qa.index import segments, store
from qa.settings import REPOSITORY
from qa.tools import synthetic
from qa.tools.processes import children, cpu_seconds, free_port, memory

GUNICORN_CONF = REPOSITORY / "gunicorn.conf.py"
DEFAULT_WORK = Path(tempfile.gettempdir()) / "qa-bench"
GENERATOR_VERSION = 1
# BM25Okapi needs about a second per question at a million passages: it gets a sample there.
OKAPI_FULL_UP_TO = 100_000
# tantivy's indexing memory budget (its minimum is 15 MB a thread).
TANTIVY_HEAP = 200_000_000
HTTP_QUESTIONS = [
    "Who backed the YPG?",
    "When did ISIL launch the offensive on Al-Hasakah?",
    "What was the result of the Al-Hasakah city offensive?",
    "How many civilians fled?",
    "Which checkpoint was recaptured on 6 June?",
]
# wrk runs per route, taking turns; the medians are reported.
HTTP_ROUNDS = 3
# How many times the profile of the default corpus asks each of HTTP_QUESTIONS.
DEFAULT_PROFILE_PASSES = 20
# What wrk loads: (the route as reported, its path, whether it POSTs the questions).
HTTP_ROUTES = {
    "ask": ("POST /api/ask", "/api/ask", True),
    "precomputed": ("POST /bench/precomputed", "/bench/precomputed", True),
    "healthz": ("GET /healthz", "/healthz", False),
}
# What each route's wrk runs report as medians: besides requests/s and latencies, the CPU time
# the gunicorn workers and wrk spent per request, which a busy spell of the machine changes less.
MEDIANS = ("rps", "p50_ms", "p99_ms", "server_cpu_us", "client_cpu_us")
# The profile's steps that are parts of another step, and of which.
PART_OF = {"retrieval": "ranking", "features": "ranking", "answer kind": "features"}
Log = Callable[[str], None]


def run(
    sizes: Sequence[int],
    questions: int,
    okapi_sample: int,
    work: Path,
    out: Path,
    http_seconds: float,
    connections: int,
    command: str,
    builds: int,
    log: Log = print,
    shards: int = 1,
    ray: bool = False,
) -> str:
    """Runs every part, writes the Markdown report to `out` and returns it; `shards` above 1
    also serves each size from an index of that many shards, beside the one-shard index, and
    `ray` serves those shards from a local Ray cluster too."""
    work.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    load_before = os.getloadavg()
    rows = [
        _size_run(size, questions, okapi_sample, builds, work, log, shards, ray) for size in sizes
    ]
    log("default corpus: profiling the HTTP part's questions")
    profiles = [("default corpus", _in_child(_default_stages, work / "index-default"))]
    profiles += [(f"{row['sentences']:,} sentences", row["stages_ms"]) for row in rows]
    http = (
        _http_run(work, rows[-1] if rows else None, http_seconds, connections, log)
        if http_seconds > 0
        else "skipped (--http-seconds 0)."
    )
    report = _report(command, started, load_before, rows, profiles, http)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, "utf-8")
    return report


def _size_run(
    size: int,
    questions: int,
    okapi_sample: int,
    builds: int,
    work: Path,
    log: Log,
    shards: int,
    ray: bool,
) -> dict:
    corpus = _corpus(work / f"corpus-{size}", size, questions, log)
    index_dir = work / f"index-{size}"
    log(f"{size}: building the index ({builds}x)")
    build = _median_build([_in_child(_build, corpus.folder, index_dir) for _ in range(builds)])
    log(f"{size}: {build['passages']} passages in {build['build_s']:.1f} s; changing one file")
    build["update_runs_s"] = _one_file_updates(corpus.folder, index_dir, builds)
    log(f"{size}: loading and asking")
    serve = _in_child(_serve, corpus.folder, index_dir, corpus.questions)
    sample = corpus.questions if size <= OKAPI_FULL_UP_TO else corpus.questions[:okapi_sample]
    log(f"{size}: rank-bm25 ({len(sample)} questions) and bm25s ({len(corpus.questions)})")
    baselines = _in_child(_baselines, corpus.folder, corpus.questions, len(sample))
    row = {"sentences": size, "documents": corpus.documents, **build, **serve, **baselines}
    row["disk"] = _disk(index_dir)
    if shards > 1:
        log(f"{size}: building an index of {shards} shards, asking it beside the one-shard index")
        split = work / f"index-{size}-{shards}-shards"
        row["sharded"] = _in_child(
            _sharded, corpus.folder, index_dir, split, shards, corpus.questions, ray
        )
    row["index_dir"] = str(index_dir)
    row["corpus_dir"] = str(corpus.folder)
    row["corpus_questions"] = corpus.questions
    return row


def _corpus(folder: Path, size: int, questions: int, log: Log) -> synthetic.SyntheticCorpus:
    """The generated corpus of `size` sentences, reused when an earlier run made the same one."""
    stamp = folder / ".bench.json"
    wanted = {"sentences": size, "questions": questions, "version": GENERATOR_VERSION}
    if stamp.exists():
        saved = json.loads(stamp.read_text("utf-8"))
        if {k: saved.get(k) for k in wanted} == wanted:
            return synthetic.SyntheticCorpus(
                folder, size, saved["documents"], saved["question_list"]
            )
    shutil.rmtree(folder, ignore_errors=True)
    log(f"{size}: generating the corpus in {folder}")
    corpus = synthetic.generate(folder, size, questions=questions)
    saved = {**wanted, "documents": corpus.documents, "question_list": corpus.questions}
    stamp.write_text(json.dumps(saved), "utf-8")
    return corpus


def _in_child(function: Callable, *args):
    """function(*args) in a fresh interpreter, which may itself start processes."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(send, function, args))
    child.start()
    send.close()
    try:
        ok, value = receive.recv()
    except EOFError:
        ok, value = False, "the child process died"
    child.join()
    if not ok:
        raise RuntimeError(f"{function.__name__} failed: {value}")
    return value


def _child_main(send, function: Callable, args: tuple) -> None:
    try:
        send.send((True, function(*args)))
    except Exception as exc:  # reported by the parent, which stops the run
        send.send((False, f"{type(exc).__name__}: {exc}"))


def _build(corpus_dir: Path, index_dir: Path) -> dict:
    """Builds and saves the index from scratch, as `qa index --rebuild` does."""
    from qa.answer.engine import Engine

    started, cpu = time.perf_counter(), _cpu_seconds()
    engine = Engine.open(corpus_dir, index_dir, rebuild=True)
    took, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    stats = engine.stats()
    return {"build_s": took, "cpu_s": cpu, "passages": stats["passages"], "terms": stats["terms"]}


def _one_file_updates(corpus_dir: Path, index_dir: Path, runs: int) -> list[float]:
    """Seconds `qa index` takes, as a user runs it (a fresh process, imports included), after one
    file of the corpus changed: `runs` times, each time a sentence more; then the file is put back
    as it was and the index brought in step again."""
    path = sorted(p for p in corpus_dir.iterdir() if p.suffix == ".txt")[0]
    original = path.read_bytes()
    command = [sys.executable, "-m", "qa.cli", "index", "--corpus", corpus_dir]
    command += ["--index", index_dir]
    took = []
    try:
        for run in range(max(runs, 1)):
            path.write_bytes(original + f"\n\nThe bench changed this file, time {run}.\n".encode())
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            took.append(time.perf_counter() - started)
    finally:
        path.write_bytes(original)
        subprocess.run(command, check=True, capture_output=True)
    return took


def _median_build(runs: list[dict]) -> dict:
    """The median time and CPU time of builds of one corpus, with each build's time: one build
    is one sample of a shared machine."""
    return {
        **runs[0],
        "build_s": statistics.median(r["build_s"] for r in runs),
        "cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "build_runs_s": [r["build_s"] for r in runs],
    }


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (the build's workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _serve(corpus_dir: Path, index_dir: Path, questions: list[str]) -> dict:
    """Loads the saved index in a fresh process, then times retrieval and full answers."""
    from qa.answer.engine import Engine

    before = memory()
    started = time.perf_counter()
    engine = Engine.open(corpus_dir, index_dir)
    load_s = time.perf_counter() - started
    loaded = memory()
    queries = [engine.analyzer.terms(q) for q in questions]
    retrieve = _timings(lambda q: engine.index.retrieve(q, 10), queries)
    ask = _timings(engine.ask, questions)
    asked = memory()
    return {
        "load_s": load_s,
        "rss_load_mb": loaded["rss"] - before["rss"],
        "rss_queries_mb": asked["rss"] - before["rss"],
        "anon_queries_mb": asked["anon"] - before["anon"],
        "retrieve_ms": retrieve,
        "ask_ms": ask,
        "stages_ms": _stages(engine, questions),
    }


def _sharded(
    corpus_dir: Path,
    one_dir: Path,
    split_dir: Path,
    shards: int,
    questions: list[str],
    ray: bool = False,
) -> dict:
    """Builds the index of `shards` shards from scratch, then asks it and the one-shard index
    (and with `ray`, the shards served by Ray actors on a local cluster of `shards` nodes) each
    question in turn, in one process, so that all see the same machine; and counts the answers
    that differ from the one-shard index's (none should)."""
    from qa.answer.engine import Engine
    from qa.answer.model import as_json

    started = time.perf_counter()
    split = Engine.open(corpus_dir, split_dir, rebuild=True, shards=shards)
    build_s = time.perf_counter() - started
    engines = {"one": Engine.open(corpus_dir, one_dir), "split": split}
    built = {"shards": shards, "build_s": build_s}
    with contextlib.ExitStack() as held:
        if ray:
            from qa.index.remote import RayReaders
            from qa.service.cluster import ray_shards
            from qa.tools.serving import local_ray

            address = held.enter_context(local_ray(shards)).address
            # Built again, on the cluster's nodes (qa index --cluster), and served from there.
            ray_dir = split_dir.with_name(split_dir.name + "-ray")
            readers = RayReaders(address)
            started = time.perf_counter()
            Engine.open(corpus_dir, ray_dir, rebuild=True, shards=shards, readers=readers)
            built["ray_build_s"] = time.perf_counter() - started
            readers.close()
            built["ray_same_bytes"] = index_digest(ray_dir) == index_digest(split_dir)
            engines["ray"] = Engine.open(corpus_dir, ray_dir, serve=ray_shards(address))
        times: dict[str, list[float]] = {name: [] for name in engines}
        differ = dict.fromkeys(engines, 0)
        for timed in (False, True):  # the first pass pages the indexes in
            for question in questions:
                answers = {}
                for name, engine in engines.items():
                    began = time.perf_counter()
                    answers[name] = as_json(engine.ask(question)) | {"took_ms": 0}
                    if timed:
                        times[name].append((time.perf_counter() - began) * 1000)
                for name in engines:
                    differ[name] += timed and answers[name] != answers["one"]
    return {**built, "ms": times, "differ": differ}


def index_digest(index_dir: Path) -> str:
    """A digest of the current version's segments' files, in order, but not of their names
    (made from the time): two builds of one corpus that wrote the same bytes have the same."""
    from qa.index import segments, store

    digest = hashlib.blake2b()
    for name in store.read_plan(store.current(index_dir)).segments:
        for path in sorted((segments.folder_of(index_dir) / name).iterdir()):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _stage_functions() -> dict[str, Callable]:
    """The steps of Engine.ask that the profile reports, by name (the whole first)."""
    from qa.answer import query as answer
    from qa.answer import spans
    from qa.answer.answering import Answerer
    from qa.answer.engine import Engine
    from qa.answer.rank import Ranker
    from qa.index.bm25 import BM25Index
    from qa.text.aliases import AliasTable
    from qa.text.spelling import Lexicon

    return {
        "Engine.ask": Engine.ask,
        "spelling": Lexicon.suggestions,
        "aliases": AliasTable.used,
        "query": answer.build_query,
        "ranking": Ranker.rank,
        "retrieval": BM25Index.retrieve,
        "features": Ranker._raw_features,
        "answer kind": Ranker._answer_kind,
        "citations": Answerer.citation,
        "spans": spans.answer_span,
    }


def _default_stages(index_dir: Path) -> dict[str, float | None]:
    """The profile of the questions the HTTP part asks /api/ask, on the default corpus."""
    from qa.answer.engine import Engine
    from qa.settings import corpus_folder

    engine = Engine.open(corpus_folder(), index_dir)
    for question in HTTP_QUESTIONS:
        engine.ask(question)
    return _stages(engine, HTTP_QUESTIONS * DEFAULT_PROFILE_PASSES)


def _stages(engine, questions: list[str]) -> dict[str, float | None]:
    """Milliseconds per question in each step of Engine.ask, under cProfile, over one more
    pass: the real calls, with the profiler's own cost added to each (more where calls are
    many and small). None for a step that was never called."""
    profiler = cProfile.Profile()
    profiler.enable()
    for question in questions:
        engine.ask(question)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    measured = {}
    for name, function in _stage_functions().items():
        code = function.__code__
        entry = stats.get((code.co_filename, code.co_firstlineno, code.co_name))
        # An entry's fourth figure is its cumulative time: the function and all it calls.
        measured[name] = entry[3] * 1000 / len(questions) if entry else None
    return measured


def _timings(call: Callable, items: Sequence) -> list[float]:
    """Milliseconds per item, measured on a second pass (the first one pages the index in)."""
    for item in items:
        call(item)
    times = []
    for item in items:
        started = time.perf_counter()
        call(item)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _baselines(corpus_dir: Path, questions: list[str], okapi_questions: int) -> dict:
    """BM25Okapi, bm25s and tantivy over qa's own passage terms, asked qa's own question terms."""
    from qa.index.build import indexed_tokens, read_and_count
    from qa.text.analyze import Analyzer

    _, counts = read_and_count(corpus_dir, indexed_tokens)
    tokens = _token_lists(counts)
    analyzer = Analyzer()
    queries = [analyzer.terms(q) for q in questions]
    return {
        **_okapi(tokens, queries[:okapi_questions]),
        **_bm25s(tokens, queries),
        **_tantivy(tokens, queries),
    }


def _okapi(tokens: list[list[str]], queries: list[list[str]]) -> dict:
    from rank_bm25 import BM25Okapi

    started = time.perf_counter()
    okapi = BM25Okapi(tokens)
    build = time.perf_counter() - started
    return {
        "okapi_build_s": build,
        "okapi_ms": _timings(lambda q: _top(okapi.get_scores(q), 10), queries),
    }


def _bm25s(tokens: list[list[str]], queries: list[list[str]]) -> dict:
    import bm25s

    started = time.perf_counter()
    index = bm25s.BM25(method="robertson")
    index.index(tokens, show_progress=False)
    build = time.perf_counter() - started

    def ask(query: list[str]):
        # An empty query is the empty token, which bm25s indexes for the purpose.
        return index.retrieve([query or [""]], k=10, show_progress=False, n_threads=0)

    return {"bm25s_build_s": build, "bm25s_ms": _timings(ask, queries)}


def _tantivy(tokens: list[list[str]], queries: list[list[str]]) -> dict:
    import tantivy

    builder = tantivy.SchemaBuilder()
    # The terms are qa's analyzed ones, spaces apart: tantivy only splits them again, and keeps
    # their frequencies (BM25 needs no positions).
    builder.add_text_field("terms", stored=False, tokenizer_name="whitespace", index_option="freq")
    schema = builder.build()
    with tempfile.TemporaryDirectory(prefix="qa-tantivy-") as folder:
        started = time.perf_counter()
        index = tantivy.Index(schema, path=folder)
        writer = index.writer(heap_size=TANTIVY_HEAP, num_threads=1)
        for passage in tokens:
            writer.add_document(tantivy.Document(terms=" ".join(passage)))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        searcher = index.searcher()
        build = time.perf_counter() - started

        def ask(query: list[str]):
            # Each occurrence of a term counts, as BM25Okapi counts a repeated query term.
            terms = [
                (tantivy.Occur.Should, tantivy.Query.term_query(schema, "terms", t)) for t in query
            ]
            return searcher.search(tantivy.Query.boolean_query(terms), 10).hits

        return {"tantivy_build_s": build, "tantivy_ms": _timings(ask, queries)}


def _token_lists(counts) -> list[list[str]]:
    """Each passage's terms again, as lists (their order does not matter to BM25)."""
    bounds = np.concatenate([[0], np.cumsum(counts.distinct)]).tolist()
    ids, tfs, terms = counts.term_ids.tolist(), counts.counts.tolist(), counts.terms
    return [
        [terms[t] for t, tf in zip(ids[a:b], tfs[a:b], strict=True) for _ in range(tf)]
        for a, b in zip(bounds, bounds[1:], strict=False)
    ]


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    best = np.argpartition(-scores, k)[:k] if len(scores) > k else np.arange(len(scores))
    return best[np.argsort(-scores[best])]


def _disk(folder: Path) -> dict[str, float]:
    """The current index's size on disk in MB (its version's files and its segments'): BM25,
    passage and lexicon arrays, the rest."""
    sizes = {"bm25": 0.0, "passages": 0.0, "lexicon": 0.0, "other": 0.0}
    version = store.current(folder)
    parts = [segments.folder_of(folder) / name for name in store.read_plan(version).segments]
    for path in (p for part in [version, *parts] for p in part.iterdir()):
        part = path.name.split("-", 1)[0]
        sizes[part if part in sizes else "other"] += path.stat().st_size / 2**20
    return sizes


def _http_run(
    work: Path, largest: dict | None, seconds: float, connections: int, log: Log
) -> dict | str:
    """wrk against gunicorn: the default corpus, then the largest index for memory per worker."""
    if not shutil.which("wrk"):
        return "skipped: wrk is not installed (Debian: `apt-get install wrk`)."
    if not GUNICORN_CONF.exists():
        return f"skipped: {GUNICORN_CONF.name} not found in the repository."
    log("HTTP: gunicorn on the default corpus")
    default = _gunicorn_session(
        {"QA_INDEX": str(work / "index-default")}, HTTP_QUESTIONS, seconds, connections
    )
    result = {"default": default, "connections": connections, "seconds": seconds}
    if largest:
        log(f"HTTP: gunicorn on the {largest['sentences']}-sentence index")
        env = {"QA_CORPUS": largest["corpus_dir"], "QA_INDEX": largest["index_dir"]}
        asked = largest["corpus_questions"][:50]
        result["largest"] = _gunicorn_session(env, asked, seconds, connections)
        result["largest_sentences"] = largest["sentences"]
    return result


def _gunicorn_session(
    env: dict[str, str], questions: list[str], seconds: float, connections: int
) -> dict:
    port = free_port()
    environ = {
        **os.environ,
        **env,
        "QA_HOST": "127.0.0.1",
        "QA_PORT": str(port),
        "QA_RATE_LIMIT": "off",
        "QA_BENCH_QUESTION": questions[0],
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "qa.tools.bench_wsgi:app"],
        cwd=REPOSITORY,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base + "/readyz", server)
        problem = _ask_problem(base + "/api/ask", questions[0])
        runs: dict[str, list[dict]] = {route: [] for route in HTTP_ROUTES}
        with tempfile.TemporaryDirectory() as scratch:
            script = Path(scratch, "ask.lua")
            script.write_text(_ask_script(questions), "utf-8")
            # The routes take turns, so that a busy spell of the shared machine falls on all.
            workers = children(server.pid)
            for _ in range(HTTP_ROUNDS):
                for route, (_, path, posts) in HTTP_ROUTES.items():
                    spent = _cpu_seconds(), cpu_seconds(workers)
                    wrk = _wrk(base + path, seconds, connections, script if posts else None)
                    wrk["client_cpu_us"] = (_cpu_seconds() - spent[0]) / wrk["requests"] * 1e6
                    wrk["server_cpu_us"] = (cpu_seconds(workers) - spent[1]) / wrk["requests"] * 1e6
                    runs[route].append(wrk)
        usage = [{"pid": server.pid, "role": "master", **memory(server.pid)}]
        usage += [{"pid": pid, "role": "worker", **memory(pid)} for pid in children(server.pid)]
        medians = {route: _median_run(route_runs) for route, route_runs in runs.items()}
        return {**medians, "memory": usage, "problem": problem}
    finally:
        server.terminate()
        server.wait(timeout=60)


def _wait_ready(url: str, server: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn was not ready in time")


def _ask_problem(url: str, question: str) -> str | None:
    """What is wrong with the answer to one question, or None when it is a 200."""
    body = json.dumps({"question": question}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30):
            return None
    except urllib.error.HTTPError as exc:
        return f"{exc.code}: {exc.read()[:300].decode('utf-8', 'replace')}"


def _ask_script(questions: list[str]) -> str:
    """A wrk script that POSTs the questions to /api/ask in turn."""
    bodies = ", ".join(json.dumps(json.dumps({"question": q})) for q in questions)
    return f"""
local bodies = {{{bodies}}}
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", nil, {{["Content-Type"] = "application/json"}}, bodies[i])
end
"""


def _wrk(url: str, seconds: float, connections: int, script: Path | None = None) -> dict:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    return {
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _wrk_latency(output, "50%"),
        "p99_ms": _wrk_latency(output, "99%"),
        "errors": _wrk_errors(output),
    }


def _median_run(runs: list[dict]) -> dict:
    """The median requests/s and latencies of wrk runs, their errors summed."""
    return {
        **{key: statistics.median(r[key] for r in runs) for key in MEDIANS},
        "errors": sum(r["errors"] for r in runs),
        "runs_rps": [r["rps"] for r in runs],
    }


def _wrk_latency(output: str, percentile: str) -> float:
    value, unit = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\b", output, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk_errors(output: str) -> int:
    """Non-2xx/3xx responses and socket errors."""
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(map(int, sockets.groups())) if sockets else 0
    )


def _machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    memory_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return (
        f"`nproc` {len(os.sched_getaffinity(0))}, CPU {cpu}, memory {memory_kb / 2**20:.1f} GiB, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )


def _ms(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def _report(
    command: str,
    started: str,
    load_before: tuple[float, float, float],
    rows: list[dict],
    profiles: list[tuple[str, dict]],
    http: dict | str,
) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `{command}`, started {started}.",
        "",
        f"Machine: {_machine()}. Load average (1, 5, 15 min) before the run "
        f"{', '.join(f'{x:.2f}' for x in load_before)}, after "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}: the machine is shared, so ratios "
        "from the same run mean more than absolute times.",
        "",
        *_index_table(rows),
        "",
        *_baseline_table(rows),
        "",
        *_shard_table(rows),
        *_stage_table(profiles),
        "",
        *_http_section(http),
    ]
    return "\n".join(lines) + "\n"


def _index_table(rows: list[dict]) -> list[str]:
    lines = [
        "## Index",
        "",
        "Build: `Engine.open(rebuild=True)` end to end (file reading, parsing, Punkt sentences, "
        "analysis, BM25 weights, saving, reloading), from scratch in a fresh process, `--builds` "
        "times: the median, and each build's time under build runs. Per CPU s: sentences per "
        "second of CPU time summed over the build's processes (the median), the work itself "
        "without the waiting that a busy machine adds. 1-file update: `qa index` run as a user "
        "runs it (a fresh process, imports included) after one file changed, the median of "
        "`--builds` runs. Load: `Engine.open` on the saved index in a fresh process (the "
        "files' sizes and times, and checksums, included). RSS: resident memory the engine "
        "added after loading, and after asking every question twice, with the anonymous "
        "(private) part: the rest is pages of the memory-mapped index files, which the page "
        "cache shares among processes. Retrieve: `BM25Index.retrieve` top 10; ask: "
        "`Engine.ask`, the full answer. Latencies are from the second pass over the questions.",
        "",
        "| sentences | passages | terms | build s | build runs s | sentences/s | per CPU s "
        "| 1-file update s "
        "| disk MB (BM25 + passages + lexicon) "
        "| load s | RSS load MB | RSS queries MB (anon) | retrieve p50 ms | p95 | ask p50 ms "
        "| p95 |",
        "|" + "---:|" * 16,
    ]
    for r in rows:
        disk = r["disk"]
        lines.append(
            f"| {r['sentences']:,} | {r['passages']:,} | {r['terms']:,} | {r['build_s']:.1f} "
            f"| {', '.join(f'{s:.1f}' for s in r['build_runs_s'])} "
            f"| {r['sentences'] / r['build_s']:,.0f} | {r['sentences'] / r['cpu_s']:,.0f} "
            f"| {statistics.median(r['update_runs_s']):.2f} "
            f"| {sum(disk.values()):.0f} ({disk['bm25']:.0f} + {disk['passages']:.0f} "
            f"+ {disk['lexicon']:.0f}) "
            f"| {r['load_s']:.2f} | {r['rss_load_mb']:.0f} "
            f"| {r['rss_queries_mb']:.0f} ({r['anon_queries_mb']:.0f}) "
            f"| {_ms(r['retrieve_ms'], 50):.3f} | {_ms(r['retrieve_ms'], 95):.3f} "
            f"| {_ms(r['ask_ms'], 50):.2f} | {_ms(r['ask_ms'], 95):.2f} |"
        )
    return lines


def _shard_table(rows: list[dict]) -> list[str]:
    """The sharded index beside the one-shard index (nothing when --shards is 1)."""
    sharded = [r for r in rows if "sharded" in r]
    if not sharded:
        return []
    lines = [
        "## Shards",
        "",
        "The same corpus indexed with `qa index --shards N` (one build from scratch) and served "
        "in one process: `Engine.ask` on the one-shard index, on the N-shard index in-process "
        "and (with --ray) on the N shards served by Ray actors on a local cluster of N nodes, "
        "one CPU each, on 127.0.0.1, from the index built again on that cluster's nodes "
        "(`qa index --cluster`: its build s, and whether it wrote the local build's bytes); "
        "each question asked of all in turn, second pass. Asks/s: "
        "one thread, 1000 / the mean ms. Fan-out: what serving the shards adds to the "
        "one-shard p50 (their two rounds: term counts, then each shard's candidates, merged). "
        "Differing: answers that are not the one-shard index's JSON (but for their `took_ms`).",
        "",
        "| sentences | shards | build s | served | p50 ms | p95 | asks/s | fan-out p50 ms "
        "| differing answers |",
        "|" + "---:|" * 3 + "---|" + "---:|" * 5,
    ]
    labels = {"one": "1 shard", "split": "N shards, in-process", "ray": "N shards, Ray actors"}
    for r in sharded:
        s, one = r["sharded"], r["sharded"]["ms"]["one"]
        for name, ms in s["ms"].items():
            fan_out = "" if name == "one" else f"{_ms(ms, 50) - _ms(one, 50):.2f}"
            differ = "" if name == "one" else f"{s['differ'][name]} of {len(ms)}"
            built = f"{s['build_s']:.1f}"
            if name == "ray":
                same = "same bytes" if s["ray_same_bytes"] else "DIFFERENT bytes"
                built = f"{s['ray_build_s']:.1f} ({same})"
            lines.append(
                f"| {r['sentences']:,} | {s['shards']} | {built} | {labels[name]} "
                f"| {_ms(ms, 50):.2f} | {_ms(ms, 95):.2f} | {1000 / np.mean(ms):,.0f} "
                f"| {fan_out} | {differ} |"
            )
    return [*lines, ""]


def _baseline_table(rows: list[dict]) -> list[str]:
    lines = [
        "## Against rank-bm25, bm25s and tantivy",
        "",
        "The same passage terms and question terms for all four. BM25Okapi: `get_scores` and a "
        "top 10 (asked a sample of the questions above 100,000 sentences); bm25s: "
        "`retrieve(k=10)`, Robertson idf, numpy backend, one thread (its scores are float32 "
        "and lack BM25Okapi's idf floor; qa's equal BM25Okapi's); tantivy: its Python package, "
        "the terms in a field split at spaces, a top 10 of a boolean query of the terms, one "
        "writer thread (its BM25 is Lucene's). A ratio is the other's p50 over qa's `retrieve` "
        "p50 on the same questions, but qa / tantivy, which is qa's over tantivy's.",
        "",
        "| sentences | BM25Okapi questions | BM25Okapi p50 ms | qa p50 ms (same) "
        "| BM25Okapi / qa | bm25s p50 ms | bm25s / qa | tantivy p50 ms | qa / tantivy "
        "| BM25Okapi build s | bm25s build s | tantivy build s |",
        "|" + "---:|" * 12,
    ]
    for r in rows:
        sample = len(r["okapi_ms"])
        ours_sample = _ms(r["retrieve_ms"][:sample], 50)
        ours = _ms(r["retrieve_ms"], 50)
        okapi, fast = _ms(r["okapi_ms"], 50), _ms(r["bm25s_ms"], 50)
        tantivy = _ms(r["tantivy_ms"], 50)
        lines.append(
            f"| {r['sentences']:,} | {sample} | {okapi:.1f} | {ours_sample:.3f} "
            f"| {okapi / ours_sample:,.0f}x | {fast:.2f} | {fast / ours:.1f}x "
            f"| {tantivy:.3f} | {ours / tantivy:.2f}x "
            f"| {r['okapi_build_s']:.1f} | {r['bm25s_build_s']:.1f} | {r['tantivy_build_s']:.1f} |"
        )
    return lines


def _stage_table(profiles: list[tuple[str, dict]]) -> list[str]:
    names = list(profiles[0][1])
    steps = [name for name in names[1:] if name not in PART_OF]
    headers = [f"{name} (in {PART_OF[name]})" if name in PART_OF else name for name in names]
    lines = [
        "## Where an answer's time goes",
        "",
        "The HTTP part's questions on the default corpus, each asked "
        f"{DEFAULT_PROFILE_PASSES} times, and each size's questions asked once more, under "
        "cProfile: milliseconds per question in each "
        "step of `Engine.ask` (the function and what it calls) and its share of the whole; "
        "`-`: never called. A step marked (in ...) is part of another; other: what no step "
        "holds (the answer object, the spelling and alias rewrites). cProfile adds its own cost "
        "to every call, so the steps made of many small calls (the features) look heavier than "
        "they are, and the whole is slower than without it (the ask column above).",
        "",
        "| corpus | " + " | ".join(headers) + " | other |",
        "|---|" + "---:|" * (len(names) + 1),
    ]
    for corpus, stages in profiles:
        whole = stages[names[0]] or 0.0
        other = whole - sum(stages[name] or 0.0 for name in steps)
        parts = [stages[name] for name in names[1:]] + [other]
        cells = [f"{whole:.3f}"] + [
            "-" if value is None else f"{value:.3f} ({value / whole:.0%})" for value in parts
        ]
        lines.append(f"| {corpus} | " + " | ".join(cells) + " |")
    return lines


def _http_section(http: dict | str) -> list[str]:
    lines = ["## HTTP", ""]
    if isinstance(http, str):
        return [*lines, f"HTTP part {http}"]
    lines += [
        f"gunicorn with the repository's gunicorn.conf.py (rate limit off) on loopback; "
        f"`wrk -t1 -c{http['connections']} -d{http['seconds']:g}s --latency`, on the same "
        f"two cores as the server, {HTTP_ROUNDS} runs per route taking turns: medians, with "
        "each run's requests/s under runs. /api/ask POSTs questions in turn; no answer is "
        "cached, so every request is retrieved, ranked and cut into spans anew. "
        "/bench/precomputed (served only here, by qa.tools.bench_wsgi) takes the same requests as "
        "/api/ask does, checks them, and answers with one answer made at start: the cost of "
        "Flask and JSON without the engine. CPU µs per request: what the gunicorn workers and "
        "wrk used over a run, divided by its requests (from /proc and the child's rusage).",
        "",
        "| index | route | requests/s | of /healthz | runs | p50 ms | p99 ms "
        "| workers' CPU µs per request | wrk's CPU µs per request | non-2xx + socket errors |",
        "|---|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    sessions = [("default corpus", http["default"])]
    if "largest" in http:
        sessions.append((f"{http['largest_sentences']:,} sentences", http["largest"]))
    for name, session in sessions:
        for key, (route, _, _) in HTTP_ROUTES.items():
            w = session[key]
            share = w["rps"] / session["healthz"]["rps"]
            runs = ", ".join(f"{r:,.0f}" for r in w["runs_rps"])
            lines.append(
                f"| {name} | {route} | {w['rps']:,.0f} | {share:.0%} | {runs} "
                f"| {w['p50_ms']:.2f} | {w['p99_ms']:.2f} | {w['server_cpu_us']:,.0f} "
                f"| {w['client_cpu_us']:,.0f} | {w['errors']} |"
            )
    problems = [
        f"The first answer of the {name} server was {session['problem']}"
        for name, session in sessions
        if session["problem"]
    ]
    lines += ["", *problems] if problems else []
    lines += [
        "",
        "Memory per gunicorn process after the runs, in MB. PSS shares each page among the "
        "processes that map it. USS counts the pages only this process maps, which includes "
        "index file pages that only it has touched yet (the page cache holds them once for "
        "all). Private dirty is what the process wrote for itself alone, so what one more "
        "worker costs:",
        "",
        "| index | process | RSS | PSS | USS | private dirty |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, session in sessions:
        for p in session["memory"]:
            lines.append(
                f"| {name} | {p['role']} {p['pid']} | {p['rss']:.0f} | {p['pss']:.0f} "
                f"| {p['uss']:.0f} | {p['dirty']:.0f} |"
            )
    return lines
