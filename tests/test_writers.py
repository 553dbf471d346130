"""One writer at a time: a second `qa index` waits for the first, or gives up naming it; readers
never wait for a writer."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from qa.answer.engine import Engine
from qa.index import store, writer
from tests.helpers import ROOT

TIMEOUT = 60


def qa_index(corpus, index, *args: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "qa.cli", "index", "--corpus", corpus, "--index", index]
    return subprocess.Popen(
        [*command, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_a_second_writer_gives_up_after_wait_naming_the_first(corpus, tmp_path):
    index = tmp_path / "index"
    with store.writing(index):
        started = time.monotonic()
        out, err = qa_index(corpus, index, "--wait", "0.5").communicate(timeout=TIMEOUT)
        waited = time.monotonic() - started
    assert f"Waiting for process {os.getpid()}" in err
    assert f"is being written by process {os.getpid()}" in err and "gave up after 0.5 s" in err
    assert waited >= 0.5
    assert store.current(index) is None and not out  # nothing was written, nothing summarized


def test_a_second_writer_waits_then_builds(corpus, tmp_path):
    index = tmp_path / "index"
    with store.writing(index):
        waiter = qa_index(corpus, index)
        assert "Waiting for process" in waiter.stderr.readline()
        assert waiter.poll() is None  # still waiting while the lock is held
    out, _ = waiter.communicate(timeout=TIMEOUT)
    assert waiter.returncode == 0 and out.startswith("Indexed 2 documents")
    assert store.current(index) is not None and not (index / store.WRITER).exists()


def test_a_writer_that_waited_loads_what_the_first_saved(corpus, tmp_path):
    index = tmp_path / "index"
    with store.writing(index):
        waiter = qa_index(corpus, index)
        assert "Waiting for process" in waiter.stderr.readline()
        saved = writer.update(corpus, index, "a test").version
    out, _ = waiter.communicate(timeout=TIMEOUT)
    assert waiter.returncode == 0 and out.startswith("Indexed 2 documents")
    assert store.current(index) == saved  # loaded, not built again


def test_readers_do_not_wait_for_a_writer(corpus, tmp_path):
    index = tmp_path / "index"
    Engine.open(corpus, index)
    with store.writing(index):
        engine = Engine.open(corpus, index)  # the index is current: it is only loaded
    assert engine.version_dir == store.current(index)
