"""Index updates while the service runs: one atomic swap, then picked up only once checked."""

from __future__ import annotations

import gc
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qa.answer.engine import Engine
from qa.answer.model import as_json
from qa.index import segments, store
from qa.service.app import create_app
from qa.service.reload import Reloader, interval_from_setting
from qa.tools import serving
from qa.tools.load import Load, post
from qa.tools.serving import fetch
from tests.helpers import QUESTION, ROOT, flip_a_byte

INTERVAL = 0.05  # QA_RELOAD in the tests, seconds
NEW_DOCUMENT = (
    "= Zorblat fortress =\n\nThe Zorblat fortress fell to the Quillbrook militia in 1999.\n"
)
NEW_QUESTION = "Who took the Zorblat fortress?"


def add_document(corpus: Path) -> None:
    (corpus / "zorblat.txt").write_text(NEW_DOCUMENT, "utf-8")


def cites_new_document(answer: dict) -> bool:
    return any(c["document"]["id"] == "zorblat" for c in answer["citations"])


def client_of(corpus: Path, index: Path, reload: str = str(INTERVAL)):
    engine = Engine.open(corpus, index)
    app = create_app({"TESTING": True, "ENGINE": engine, "RATE_LIMIT": "off", "RELOAD": reload})
    return app.test_client()


def served_index(client) -> str:
    """The version /readyz names, once the reloader may look again."""
    time.sleep(INTERVAL)
    return client.get("/readyz").get_json()["index"]


def test_a_new_index_is_answered_from_once_saved(corpus, tmp_path):
    index = tmp_path / "index"
    client = client_of(corpus, index)
    first = served_index(client)
    assert not cites_new_document(client.get("/api/ask", query_string={"q": NEW_QUESTION}).json)

    add_document(corpus)
    Engine.open(corpus, index)  # what `qa index` does beside the running service

    assert served_index(client) == store.current(index).name != first
    assert cites_new_document(client.get("/api/ask", query_string={"q": NEW_QUESTION}).json)
    # What is derived from the engine follows it: the ids that questions may be limited to.
    scoped = client.post("/api/ask", json={"question": NEW_QUESTION, "documents": ["zorblat"]})
    assert scoped.status_code == 200 and cites_new_document(scoped.json)


def test_an_index_that_fails_its_checks_is_logged_and_not_served(corpus, tmp_path, caplog):
    index = tmp_path / "index"
    client = client_of(corpus, index)
    first = served_index(client)
    add_document(corpus)
    added = Engine.open(corpus, index).saved_segments[-1].folder  # the new file's segment
    gc.collect()  # which this process no longer maps, so loads (and checks) again
    flip_a_byte(added / "passages-text.npy")  # after it was saved and made current

    with caplog.at_level(logging.ERROR):
        assert served_index(client) == first
        assert served_index(client) == first
    unusable = [r.getMessage() for r in caplog.records if "is unusable" in r.getMessage()]
    # Reported once, not checked again at every look, until another version replaces it.
    assert len(unusable) == 1 and "passages-text.npy is damaged (checksum mismatch)" in unusable[0]
    assert not cites_new_document(client.get("/api/ask", query_string={"q": NEW_QUESTION}).json)

    repaired = Engine.open(corpus, index).version_dir  # rebuilt: the current one is damaged
    assert served_index(client) == repaired.name


def test_reloading_can_be_turned_off(corpus, tmp_path):
    index = tmp_path / "index"
    client = client_of(corpus, index, reload="off")
    first = served_index(client)
    add_document(corpus)
    Engine.open(corpus, index)
    assert served_index(client) == first


def test_the_index_folder_is_looked_at_once_per_interval_at_most(corpus, tmp_path, monkeypatch):
    index = tmp_path / "index"
    engine = Engine.open(corpus, index)
    looks: list[Path] = []
    current = store.current
    monkeypatch.setattr(store, "current", lambda folder: looks.append(folder) or current(folder))
    now = [100.0]
    installed: list[Engine] = []
    reloader = Reloader(engine, 1.0, installed.append, logging.getLogger(__name__), lambda: now[0])
    add_document(corpus)
    saved = Engine.open(corpus, index).version_dir
    looks.clear()

    for now[0] in (100.0, 100.5, 100.99):
        reloader()
    assert looks == [] and installed == []
    for now[0] in (101.0, 101.2, 101.9):
        reloader()
    assert looks == [index] and [e.version_dir for e in installed] == [saved]
    now[0] = 102.5
    reloader()
    assert len(looks) == 2 and len(installed) == 1  # the same version: nothing to load


@pytest.mark.parametrize("setting", ["1", "0.25", " 2 "])
def test_the_reload_interval_setting(setting):
    assert interval_from_setting(setting) == float(setting)


@pytest.mark.parametrize("setting", [None, "", "0", "off", "OFF", "none"])
def test_the_reload_interval_setting_turns_reloading_off(setting):
    assert interval_from_setting(setting) is None


@pytest.mark.parametrize("setting", ["soon", "-1", "inf", "nan", "1s"])
def test_a_bad_reload_interval_is_refused(setting):
    with pytest.raises(ValueError, match="QA_RELOAD must be a number of seconds or off"):
        interval_from_setting(setting)


# ---------- the swap on disk ----------


def test_saving_never_leaves_a_moment_without_a_whole_index(corpus, tmp_path):
    index = tmp_path / "index"
    Engine.open(corpus, index)
    stop = threading.Event()
    gaps: list[str] = []
    looks = 0

    def watch() -> None:
        nonlocal looks
        while not stop.is_set() and looks < 5_000_000:
            version = store.current(index)
            if version is None or not (version / store.MANIFEST).is_file():
                gaps.append(str(version))
            looks += 1

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        for _ in range(5):
            Engine.open(corpus, index, rebuild=True)
    finally:
        stop.set()
        watcher.join(10)
    assert looks > 100 and gaps == []
    # Only the current version and the one before it are kept; no staging folder is left.
    versions = sorted(p.name for p in index.glob(f"{store.VERSION}*"))
    assert len(versions) == store.KEEP and versions[-1] == store.current(index).name
    assert sorted(p.name for p in index.iterdir()) == sorted(
        [store.POINTER, segments.FOLDER, *versions]
    )
    assert all(p.name.startswith(segments.PREFIX) for p in segments.folder_of(index).iterdir())


def test_a_version_still_loaded_somewhere_is_kept_until_released(corpus, tmp_path):
    index = tmp_path / "index"
    first = Engine.open(corpus, index)
    for _ in range(3):
        Engine.open(corpus, index, rebuild=True)
    # Two newer versions, yet the first stays: this process answers from it, reading its
    # files (the aliases and the lexicon) only now.
    assert first.version_dir.is_dir()
    assert as_json(first.ask(QUESTION))["citations"]
    old = first.version_dir
    del first
    gc.collect()
    Engine.open(corpus, index, rebuild=True)
    assert not old.exists()
    assert len([p for p in index.iterdir() if p.name.startswith(store.VERSION)]) == store.KEEP


# ---------- gunicorn ----------


def point_at_a_damaged_copy(index: Path) -> str:
    """A copy of the current version with one byte flipped, made current as `qa index` would."""
    copy = index / f"{store.VERSION}99991231T000000000000Z-1"
    shutil.copytree(store.current(index), copy)
    flip_a_byte(copy / store.ALIASES)
    link = index / "test-link"
    os.symlink(copy.name, link)
    os.replace(link, index / store.POINTER)
    return copy.name


def wait_until_all_answer_from(server: serving.Gunicorn, version: str, timeout: float = 10) -> None:
    """Until 20 readiness checks in a row, shared among the workers, name `version`."""
    deadline = time.monotonic() + timeout
    streak = 0
    while streak < 20:
        assert time.monotonic() < deadline, f"not all workers answer from {version}"
        streak = streak + 1 if fetch(f"{server.base_url}/readyz")[2]["index"] == version else 0
        time.sleep(0.01)


def test_gunicorn_workers_pick_up_a_new_index_under_load(corpus, tmp_path):
    index = tmp_path / "index"
    Engine.open(corpus, index)
    env = {
        "QA_CORPUS": str(corpus),
        "QA_INDEX": str(index),
        "QA_RATE_LIMIT": "off",
        "QA_RELOAD": str(INTERVAL),
    }
    with serving.Gunicorn(env, tmp_path / "gunicorn.log") as server:
        first = server.wait_ready()["index"]
        asks = [post("new", NEW_QUESTION), post("old", QUESTION)]
        load = Load(server.base_url, asks, clients=4, seconds=60, limit=50_000).start()
        try:
            add_document(corpus)
            subprocess.run(
                [sys.executable, "-m", "qa.cli", "index", "--corpus", corpus, "--index", index],
                cwd=ROOT,
                capture_output=True,
                timeout=60,
                check=True,
            )
            second = store.current(index).name
            wait_until_all_answer_from(server, second)
            answer = fetch(f"{server.base_url}/api/ask", {"question": NEW_QUESTION})[2]
            damaged = point_at_a_damaged_copy(index)
            time.sleep(10 * INTERVAL)  # every worker has looked, and refused it
            wait_until_all_answer_from(server, second)
        finally:
            outcomes = load.stop()
        log = server.log.read_text()

    assert first != second and cites_new_document(answer)
    assert len(outcomes) > 50 and [o for o in outcomes if o.error] == []
    assert log.count(f"now answers from {index / second}\n") == server.workers, log
    unusable = f"{index / damaged} is unusable: version {damaged}: aliases.json is damaged"
    assert log.count(unusable) == server.workers
