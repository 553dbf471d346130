"""Picking up, while the service runs, the new index that `qa index` saves beside the served one.

gunicorn does not reload a preloaded app on SIGHUP: it forks new workers from the master, which
still holds the index it loaded at start. So each worker looks for itself: before a request, at
most once per interval, it reads the index folder's `current` link (one system call), and when
the link names another version, it loads that version and checks every file's checksum before
answering from it. A version that fails its checks is logged and skipped: the worker goes on
answering from the index it has.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from qa.answer.engine import Engine
from qa.index import store

OFF = {"", "0", "off", "none"}


def interval_from_setting(setting: str | None) -> float | None:
    """Seconds between looks for a new index, from "1" or "0.5"; None, "0" and "off": never."""
    if setting is None or setting.strip().lower() in OFF:
        return None
    try:
        seconds = float(setting)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):
        raise ValueError(f"QA_RELOAD must be a number of seconds or off, not {setting!r}")
    return seconds


class Reloader:
    """A before_request hook that gives `install` the engine of each new version of the index."""

    def __init__(
        self,
        engine: Engine,
        interval: float,
        install: Callable[[Engine], None],
        log: logging.Logger,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.corpus_dir, self.index_dir = engine.corpus_dir, engine.index_dir
        self.serve = engine.serve
        self.seen: Path = engine.version_dir
        self.interval, self.install, self.log, self.clock = interval, install, log, clock
        self.due = clock() + interval
        # The development server answers on several threads: one looks, the others answer.
        self._lock = threading.Lock()

    def __call__(self) -> None:
        now = self.clock()
        if now < self.due or not self._lock.acquire(blocking=False):
            return
        try:
            self.due = now + self.interval
            self._look()
        finally:
            self._lock.release()

    def _look(self) -> None:
        version = store.current(self.index_dir)
        if version is None or version == self.seen:
            return
        # Seen even when it fails its checks: it is not hashed again until another replaces it.
        self.seen = version
        try:
            engine = Engine.load_version(self.corpus_dir, self.index_dir, version, self.serve)
        except store.IndexUnusable as exc:
            self.log.error(
                "process %d keeps the index it has: %s is unusable: %s", os.getpid(), version, exc
            )
            return
        self.install(engine)
        self.log.info("process %d now answers from %s", os.getpid(), version)
