"""Processes on this machine, seen through /proc: free loopback ports, children, memory.

The benchmark, the soak and the tests that run real gunicorn all measure its workers this way.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


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


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time, user and system, that the processes have used so far."""
    total = 0
    for pid in pids:
        text = Path(f"/proc/{pid}/stat").read_text()
        # utime and stime are fields 14 and 15, 11 and 12 after the parenthesized command name.
        fields = text[text.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")
