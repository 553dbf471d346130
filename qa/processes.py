"""Processes on this machine: work on every CPU, and through /proc free ports, children, memory.

The benchmark, the soak and the tests that run real gunicorn all measure its workers this way.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def cpus() -> int:
    """The CPUs this process may run on (a container's cpuset), not every CPU of the host."""
    return len(os.sched_getaffinity(0))


def can_fork() -> bool:
    """Whether forking is possible here, and safe: with a single thread running, since a lock
    held by another thread would stay locked in the child forever."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def fork_map(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`function` over the items, in forked processes on every CPU when that can be done."""
    workers = min(cpus(), len(items))
    if workers <= 1 or not can_fork():
        return list(map(function, items))
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(function, items)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    """The live child processes of `pid`, read from /proc (zombies left out)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended while /proc was being read
            continue
        # The command name (field 2) is in parentheses and may hold spaces; the rest follows it.
        state, ppid = text[text.rindex(")") + 2 :].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append(int(stat.parent.name))
    return sorted(found)


def memory(pid: int | str = "self") -> dict[str, float]:
    """A process's resident memory in MB: RSS, anonymous, PSS, USS and private dirty pages."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    return {
        "rss": fields["Rss"],
        "anon": fields["Anonymous"],
        # Shared pages split among the processes that map them.
        "pss": fields["Pss"],
        "uss": fields["Private_Clean"] + fields["Private_Dirty"],
        # Pages this process wrote and shares with none: its own heap, and what it copied of the
        # master's on writing. Mapped index files are read only, so they are never among them.
        "dirty": fields["Private_Dirty"],
    }
