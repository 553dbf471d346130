"""Faults while indexing and starting: a killed `qa index`, an index that cannot be rebuilt,
and corpus files that change between listing and reading them."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from qa.answer.engine import Engine
from qa.answer.model import as_json
from qa.index import build as build_module
from qa.index import disk, segments, store
from qa.ingest.corpus import fingerprint
from qa.tools import synthetic
from qa.tools.processes import free_port
from qa.tools.serving import CONFIG
from tests.helpers import QUESTION, ROOT, flip_a_byte, manifest_stamp

# Enough to take `qa index` a second or two, so that it can be caught writing.
SENTENCES = 10_000
# Starts the command allowed to write no byte to any file (EFBIG): an index folder that cannot
# be written, as on a full or read-only disk, even for root, whom file permissions do not stop.
NO_FILE_WRITES = (
    "import os, resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0)); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def kill_while_writing(command: list, index: Path) -> list[Path]:
    """Runs `python -m qa.cli <command>` and kills it (and its workers) with SIGKILL as soon as
    it is caught writing a version or a segment; returns what it was writing."""
    # A session of its own, so that its worker processes are killed with it.
    process = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", *command],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        staging = []
        while not staging and process.poll() is None and time.monotonic() < deadline:
            staging = staged(index)
            time.sleep(0.001)
        assert staging, "qa index was not caught writing the new index"
        os.killpg(process.pid, signal.SIGKILL)  # mid-way through writing it
    finally:
        kill_group(process)
    return staging


def test_a_killed_qa_index_leaves_the_old_index_whole_and_usable(tmp_path):
    generated = synthetic.generate(tmp_path / "corpus", SENTENCES, questions=3)
    index = tmp_path / "index"
    Engine.open(generated.folder, index)
    before, stamp = store.current(index), manifest_stamp(index)

    staging = kill_while_writing(
        ["index", "--rebuild", "--corpus", generated.folder, "--index", index], index
    )

    assert staging[0].is_dir()  # half written, left behind
    assert store.current(index) == before and manifest_stamp(index) == stamp
    engine = Engine.open(generated.folder, index)
    assert engine.version_dir == before and manifest_stamp(index) == stamp  # loaded, not rebuilt
    assert as_json(engine.ask(generated.questions[0]))["citations"]

    # The next index saved clears what the killed process left.
    for path in sorted(generated.folder.iterdir())[3:]:
        path.unlink()
    Engine.open(generated.folder, index)
    assert not staged(index)


def test_a_qa_index_killed_while_merging_leaves_the_old_index_whole_and_usable(tmp_path):
    generated = synthetic.generate(tmp_path / "corpus", SENTENCES, questions=3)
    index = tmp_path / "index"
    Engine.open(generated.folder, index)
    first = sorted(generated.folder.iterdir())[0]
    first.write_text(first.read_text("utf-8") + "\n\nThe Zorblat fortress fell in 1999.\n", "utf-8")
    two = Engine.open(generated.folder, index)
    assert len(two.saved_segments) == 2 and two.summary.line() == "+0 ~1 -0"
    before = store.current(index)
    del two

    staging = kill_while_writing(
        ["index", "--optimize", "--corpus", generated.folder, "--index", index], index
    )

    # Caught writing the merged segment: the version naming it was never made.
    assert all(p.parent == segments.folder_of(index) for p in staging)
    assert store.current(index) == before
    engine = Engine.open(generated.folder, index)
    assert engine.version_dir == before and len(engine.saved_segments) == 2
    assert "1999" in as_json(engine.ask("When did the Zorblat fortress fall?"))["answer"]
    merged = Engine.open(generated.folder, index, optimize=True)
    assert len(merged.saved_segments) == 1 and not staged(index)


def test_an_update_that_cannot_be_written_leaves_the_previous_version_serving(corpus, tmp_path):
    index = tmp_path / "index"
    before = Engine.open(corpus, index).version_dir
    sentences = " ".join(f"The fort number {i} fell in {1900 + i}." for i in range(300))
    (corpus / "extra.txt").write_text(f"= Extra =\n\n{sentences}\n", "utf-8")
    # Room for the writer's record and the small arrays, not for the new passages' texts: the
    # disk fills up in the middle of writing the new segment.
    limited = NO_FILE_WRITES.replace("(0, 0)", "(4096, 4096)")
    command = ["-m", "qa.cli", "index", "--corpus", corpus, "--index", index]
    done = subprocess.run(
        [sys.executable, "-c", limited, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith(
        f"Error: the index at {index} has to be built (files changed) but cannot be saved: "
        "cannot write "
    )
    assert message.endswith(".npy: it was cut short; is the disk full?")
    assert store.current(index) == before and not staged(index)
    assert Engine.open(corpus, index).summary.line() == "+1 ~0 -0"


def staged(index: Path) -> list[Path]:
    """The folders of a version or segment being written, in an index folder."""
    return [p for p in index.rglob(f"{disk.STAGING}*") if p.is_dir()]


def gunicorn_command(port: int) -> list[str]:
    return ["-m", "gunicorn", "--config", str(CONFIG), "--bind", f"127.0.0.1:{port}"]


def qa_serve_command(port: int) -> list[str]:
    return ["-m", "qa.cli", "serve", "--port", str(port)]


@pytest.mark.parametrize("command", [gunicorn_command, qa_serve_command], ids=["gunicorn", "serve"])
def test_a_damaged_index_that_cannot_be_rebuilt_stops_the_service_in_one_line(
    corpus, tmp_path, command
):
    index = tmp_path / "index"
    engine = Engine.open(corpus, index)
    damaged, (part,) = engine.version_dir, engine.saved_segments
    flip_a_byte(part.folder / "passages-text.npy")
    env = {**os.environ, "QA_CORPUS": str(corpus), "QA_INDEX": str(index)}
    # Pipes, not files, for its output: it could not write to a file.
    process = subprocess.Popen(
        [sys.executable, "-c", NO_FILE_WRITES, *command(free_port())],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=60)
    finally:
        kill_group(process)

    assert process.returncode == 1
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert lines == [
        f"Error: the index at {index} has to be built (segment {part.name}: passages-text.npy "
        "is damaged (checksum mismatch)) but cannot be saved: [Errno 27] File too large"
    ]
    assert sorted(p.name for p in index.iterdir()) == sorted(
        [store.POINTER, segments.FOLDER, damaged.name]
    )


# ---------- corpus files that change between listing and reading ----------


VICTIM = "= Zorblat fortress =\n\nThe Zorblat fortress fell to the Quillbrook militia in {year}.\n"
ZORBLAT = "When did the Zorblat fortress fall?"


def after_listing(monkeypatch, fault: Callable[[], None]) -> None:
    """Runs `fault` once indexing has listed the corpus's files, before it reads any of them."""
    chunks = build_module._chunks  # what the listing goes to first

    def listed(files: list[Path]) -> list[list[Path]]:
        fault()
        return chunks(files)

    monkeypatch.setattr(build_module, "_chunks", listed)


def replace_with_directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


def replace_with_dangling_link(path: Path) -> None:
    path.unlink()
    path.symlink_to(path.with_name("nowhere.txt"))


@pytest.mark.parametrize(
    ("fault", "reason", "changed"),
    [
        (Path.unlink, "No such file or directory", True),
        (replace_with_directory, "Is a directory", True),
        (replace_with_dangling_link, "No such file or directory", False),
    ],
    ids=["deleted", "directory", "dangling-link"],
)
def test_a_file_that_cannot_be_read_after_listing_is_reported_and_the_rest_indexed(
    corpus, tmp_path, monkeypatch, fault, reason, changed
):
    index = tmp_path / "index"
    victim = corpus / "victim.txt"
    victim.write_text(VICTIM.format(year=1999), "utf-8")
    after_listing(monkeypatch, lambda: fault(victim))
    engine = Engine.open(corpus, index)
    stats = engine.stats()
    assert stats["skipped"] == [{"file": "victim.txt", "reason": f"cannot be read: {reason}"}]
    assert stats["documents"] == 2 and as_json(engine.ask(QUESTION))["citations"]

    # The index says it holds the corpus as read: the next start rebuilds when that is no longer
    # what the folder holds (a file listed then is no longer listed), and only then.
    monkeypatch.undo()
    again = Engine.open(corpus, index)
    assert (again.version_dir != engine.version_dir) is changed
    assert again.stats()["skipped"] == ([] if changed else stats["skipped"])


def test_a_file_changed_while_indexed_is_indexed_as_read(corpus, tmp_path, monkeypatch, caplog):
    index = tmp_path / "index"
    victim = corpus / "victim.txt"
    victim.write_text(VICTIM.format(year=1999), "utf-8")
    fingerprinted = fingerprint(corpus)
    after_listing(monkeypatch, lambda: victim.write_text(VICTIM.format(year=2001), "utf-8"))
    with caplog.at_level(logging.WARNING, logger="qa.index.writer"):
        engine = Engine.open(corpus, index)
    assert "victim.txt changed while it was being indexed" in caplog.text
    assert "2001" in as_json(engine.ask(ZORBLAT))["citations"][0]["text"]
    monkeypatch.undo()
    assert Engine.open(corpus, index).version_dir == engine.version_dir  # current as it is

    # Changed back to what was fingerprinted before reading: the index no longer holds it.
    victim.write_text(VICTIM.format(year=1999), "utf-8")
    assert fingerprint(corpus) == fingerprinted
    again = Engine.open(corpus, index)
    assert again.version_dir != engine.version_dir
    assert "1999" in as_json(again.ask(ZORBLAT))["citations"][0]["text"]
