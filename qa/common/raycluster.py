"""Joining a Ray cluster, for the processes that serve shards from it (qa.service.cluster) and
for `qa index --cluster` (qa.index.remote). Ray is imported only when a process joins.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading

NAMESPACE = "qa"
# How long the head of a cluster may take to accept a connection.
REACH_SECONDS = 5.0


class ClusterUnavailable(Exception):
    """The Ray cluster cannot be used; the message says why, in one line."""


def connect(address: str) -> None:
    """Connects this process to the Ray cluster at `address`, unless it is connected already.

    Raises ClusterUnavailable when Ray is not installed or the cluster cannot be reached.
    """
    try:
        import ray
    except ImportError as exc:
        raise ClusterUnavailable(
            "Ray is not installed: pip install -e '.[cluster]' (on every node too)"
        ) from exc
    if ray.is_initialized():
        return
    _reachable(address)
    # ray.init makes SIGTERM exit the process at once: a gunicorn worker's own handler, which
    # finishes the requests in hand first, is put back.
    main = threading.current_thread() is threading.main_thread()
    kept = signal.getsignal(signal.SIGTERM) if main else None
    try:
        ray.init(address=address, namespace=NAMESPACE, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise ClusterUnavailable(f"cannot join the Ray cluster at {address}: {exc}") from exc
    finally:
        if kept is not None:
            signal.signal(signal.SIGTERM, kept)


def _reachable(address: str) -> None:
    """ClusterUnavailable when the head at a HOST:PORT address does not answer: ray.init would
    wait for it forever."""
    host, colon, port = address.rpartition(":")
    if not colon or "://" in address or not port.isdigit():
        return  # "auto", or a Ray client address (ray://): ray.init says what is wrong
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=REACH_SECONDS).close()
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise ClusterUnavailable(f"cannot join the Ray cluster at {address}: {why}") from exc


def alive_nodes() -> list[str]:
    """The ids of the connected cluster's live nodes, sorted."""
    import ray

    return sorted(node["NodeID"] for node in ray.nodes() if node["Alive"])


def disconnect() -> None:
    """Leaves the Ray cluster, if this process joined it (a gunicorn worker that stops)."""
    if "ray" in sys.modules and sys.modules["ray"].is_initialized():
        sys.modules["ray"].shutdown()
