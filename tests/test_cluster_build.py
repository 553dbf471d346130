"""`qa index --cluster`: a corpus read on the nodes of a real Ray cluster on this machine (every
process on 127.0.0.1) makes the index a local build makes, byte for byte; a node that leaves
costs no file, and one that joins is used by the next build."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import ray
from click.testing import CliRunner

from qa.answer.engine import Engine
from qa.answer.model import as_json
from qa.cli import main
from qa.index import build, segments, store, writer
from qa.index.remote import RayReaders
from qa.tools.processes import free_port
from qa.tools.serving import RAY_NODE
from qa.tools.writers import write_docx, write_html, write_pdf
from tests.helpers import DEFAULT_CORPUS, ROOT, until

SEEDS = [json.loads(line)["question"] for line in (ROOT / "tests/data/seeds-dev.jsonl").open()]
# Small chunks, so that a small corpus is read as many chunks, by every node.
CHUNK_BYTES = 2048


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(build, "CHUNK_BYTES", CHUNK_BYTES)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The default corpus, a file of every other type, a damaged PDF and forty short reports."""
    folder = tmp_path_factory.mktemp("cluster-build") / "corpus"
    shutil.copytree(DEFAULT_CORPUS, folder)
    paragraphs = ("The ferry to Arwad left at dawn.", "It carried forty passengers and mail.")
    write_html("Arwad ferry", paragraphs, folder / "ferry.html")
    write_docx("Harbour log", paragraphs, folder / "log.docx")
    write_pdf("Port notice", paragraphs, folder / "notice.pdf")
    (folder / "notes.md").write_text("# Notes\n\nThe lighthouse was repainted in May.\n")
    (folder / "damaged.pdf").write_bytes(b"%PDF-1.7 not really")
    for n in range(40):
        text = f"= Report {n} =\n\nThe river gauge at station {n} read {n % 7} metres. " * 12
        (folder / "reports" / f"report-{n:02d}.txt").parent.mkdir(exist_ok=True)
        (folder / "reports" / f"report-{n:02d}.txt").write_text(text)
    return folder


def index_bytes(index_dir: Path) -> dict:
    """Everything the current version holds, but the names made from the time: the plan, and
    each shard's segments' files, byte for byte."""
    version = store.current(index_dir)
    plan = store.read_plan(version)
    held = plan.as_json()
    for entry in held["segments"]:
        entry.pop("name")
    files = {}
    for i, name in enumerate(plan.segments):
        folder = segments.folder_of(index_dir) / name
        for path in sorted(folder.iterdir()):
            files[(plan.shard(i), i, path.name)] = path.read_bytes()
    return {"plan": held, "files": files}


def answers(corpus_dir: Path, index_dir: Path) -> list[dict]:
    engine = Engine.open(corpus_dir, index_dir)
    found = [as_json(engine.ask(question)) for question in SEEDS]
    for answer in found:
        answer.pop("took_ms")
    return found


def test_qa_index_on_the_cluster_makes_the_local_build_byte_for_byte(
    ray_cluster, corpus, small_chunks, tmp_path
):
    local = writer.refresh(corpus, tmp_path / "local", shards=3)
    assert len(build._chunks(sorted(corpus.rglob("*.*")))) > 12
    result = CliRunner().invoke(
        main,
        ["index", "--corpus", str(corpus), "--index", str(tmp_path / "ray"), "--shards", "3"]
        + ["--cluster", ray_cluster.address],
    )
    assert result.exit_code == 0, result.output
    assert "Read on 3 Ray nodes" in result.output
    assert "Skipped damaged.pdf:" in result.output  # reported by name, the rest indexed
    assert f"Indexed {local.stats()['documents']} documents" in result.output
    assert index_bytes(tmp_path / "ray") == index_bytes(tmp_path / "local")
    assert answers(corpus, tmp_path / "ray") == answers(corpus, tmp_path / "local")
    # The actors let their CPUs go with the command (ray.kill returns before Ray has seen it).
    cpus = ray.cluster_resources()["CPU"]
    assert until(lambda: ray.available_resources().get("CPU", 0) == cpus, 30)


def test_an_update_on_the_cluster_reads_only_the_changed_file(
    ray_cluster, corpus, small_chunks, tmp_path
):
    folder = tmp_path / "corpus"
    shutil.copytree(corpus, folder)
    readers = RayReaders(ray_cluster.address)
    try:
        writer.refresh(folder, tmp_path / "ray", readers=readers)
        report = folder / "reports" / "report-03.txt"
        report.write_text("= Report 3 =\n\nThe gauge was washed away by the flood.\n")
        done = writer.refresh(folder, tmp_path / "ray", readers=readers)
    finally:
        readers.close()
    assert done.summary.changed == ["reports/report-03.txt"]
    writer.refresh(folder, tmp_path / "local", rebuild=True)
    engine = Engine.open(folder, tmp_path / "ray")
    assert "washed away" in engine.ask("What happened to the gauge in the flood?").answer
    local = Engine.open(folder, tmp_path / "local")
    question = "What did the river gauge read at station 12?"
    assert as_json(engine.ask(question))["citations"] == as_json(local.ask(question))["citations"]


def test_a_node_that_leaves_costs_no_file_and_one_that_joins_is_used(
    ray_cluster, corpus, small_chunks, tmp_path, caplog
):
    writer.refresh(corpus, tmp_path / "local", shards=2)
    expected = index_bytes(tmp_path / "local")
    leaving = ray_cluster.add_node(**RAY_NODE)
    ray_cluster.wait_for_nodes()
    readers = RayReaders(ray_cluster.address)
    try:
        writer.refresh(corpus, tmp_path / "before", shards=2, readers=readers)
        assert len(readers.nodes) == 4 and leaving.node_id in readers.nodes
        # The node leaves between two builds of one process (`qa index --watch`): its reader's
        # chunks of the next build are read by the others.
        ray_cluster.remove_node(leaving)
        with caplog.at_level(logging.WARNING, logger="qa.index.remote"):
            writer.refresh(corpus, tmp_path / "left", shards=2, readers=readers)
        assert "its Ray actor was lost" in caplog.text
        assert index_bytes(tmp_path / "left") == expected
        # A node joins: the next build makes its readers anew, one on it.
        joined = ray_cluster.add_node(**RAY_NODE)
        ray_cluster.wait_for_nodes()
        writer.refresh(corpus, tmp_path / "joined", shards=2, readers=readers)
        assert joined.node_id in readers.nodes and leaving.node_id not in readers.nodes
        assert index_bytes(tmp_path / "joined") == expected
    finally:
        readers.close()
    ray_cluster.remove_node(joined)
    assert index_bytes(tmp_path / "before") == expected


def test_qa_index_names_a_cluster_it_cannot_join(corpus, tmp_path):
    # In a process of its own: this one is a driver of the test's cluster already.
    index_dir = tmp_path / "ray"
    command = [sys.executable, "-m", "qa.cli", "index", "--corpus", str(corpus)]
    command += ["--index", str(index_dir), "--cluster", f"127.0.0.1:{free_port()}"]
    ran = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 1, ran.stderr
    assert re.fullmatch(
        r"Error: cannot join the Ray cluster at 127\.0\.0\.1:\d+: Connection refused\n",
        ran.stderr,
    )
    assert store.current(index_dir) is None
