"""Forked processes: whether one may be forked now, and work a child does meanwhile."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection
from typing import Generic, TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    """Whether this process may fork: where there is fork, while it runs a single thread.

    A lock that another thread holds at the fork would stay locked in the child forever.
    """
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


class Forked(Generic[T]):
    """function(*args), computed by a forked child while this process goes on.

    The result comes back pickled, so it should be compact (arrays or JSON text, not many small
    Python objects). Where forking is not safe, `result` computes it.
    """

    def __init__(self, function: Callable[..., T], *args: object) -> None:
        self._call = partial(function, *args)
        self._child = None
        if can_fork():
            context = multiprocessing.get_context("fork")
            self._receive, send = context.Pipe(duplex=False)
            # A daemon, so that it ends with this process if its result is never asked for.
            self._child = context.Process(target=_send_result, args=(send, self._call), daemon=True)
            self._child.start()
            send.close()

    def result(self) -> T:
        """The result (asked for once), when the child has sent it; what the child raised."""
        if self._child is None:
            return self._call()
        try:
            outcome = self._receive.recv()
        except EOFError:  # the child died before it could send anything
            outcome = None
        self._receive.close()
        self._child.join()
        if outcome is None:
            raise ChildProcessError(f"the child process died (exit code {self._child.exitcode})")
        ok, value = outcome
        if not ok:
            raise value
        return value


def _send_result(send: Connection, call: Callable[[], object]) -> None:
    try:
        outcome = (True, call())
    except Exception as exc:  # raised again in the parent, by `result`
        outcome = (False, exc)
    send.send(outcome)
