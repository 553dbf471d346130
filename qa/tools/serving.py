"""qa served as in production, for the soak, the fuzzer and the tests that need a real server.

Real gunicorn from the repository's gunicorn.conf.py on a free loopback port, in its own process
group so that nothing outlives it; its workers are found and measured through /proc.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from qa.settings import REPOSITORY
from qa.tools.processes import children, free_port

ROOT = REPOSITORY
CONFIG = ROOT / "gunicorn.conf.py"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def fetch(
    url: str, data: Any = None, headers: Mapping[str, str] | None = None, timeout: float = 10
) -> tuple[int, Any, Any]:
    """(status, headers, decoded JSON body) of a GET, or of a JSON POST when data is given."""
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, headers=dict(headers or {}))
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def raw_exchange(port: int, data: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Sends bytes exactly as given (no client normalises the path); (status, headers, body).

    gunicorn's sync workers close every connection after one response, so the reply ends there.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return parse_reply(b"".join(iter(lambda: sock.recv(65536), b"")))


def parse_reply(reply: bytes) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body) of a whole raw HTTP/1.1 response."""
    head, _, body = reply.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    fields = (line.partition(":") for line in lines)
    return int(status_line.split()[1]), {k.lower(): v.strip() for k, _, v in fields}, body


class Gunicorn:
    """gunicorn serving qa with the repository's config; a context manager that always stops it.

    `env` adds to the environment (QA_CORPUS, QA_INDEX, QA_RATE_LIMIT, QA_TIMEOUT, ...); the
    address and the number of workers are set here.
    """

    def __init__(self, env: Mapping[str, str], log: Path, workers: int = 2) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {
            **os.environ,
            **env,
            "QA_HOST": "127.0.0.1",
            "QA_PORT": str(self.port),
            "QA_WORKERS": str(workers),
        }
        self.workers = workers
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", str(CONFIG)],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                # Its own process group, so that its workers can be killed with it if it hangs.
                start_new_session=True,
            )
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def wait_ready(self, timeout: float = START_TIMEOUT) -> dict:
        """The /readyz body once it answers 200 and all workers run; RuntimeError otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}:\n{self.tail()}"
                )
            try:
                status, _, body = fetch(f"{self.base_url}/readyz", timeout=5)
                if status == 200 and len(children(self.pid)) == self.workers:
                    return body
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn was not ready within {timeout:g} s:\n{self.tail()}")

    def wait_for_workers(self, without: set[int], timeout: float = 10) -> list[int]:
        """The workers, once all of them run and none is in `without` (killed ones, say)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = children(self.pid)
            if len(pids) == self.workers and not without & set(pids):
                return pids
            time.sleep(0.05)
        raise RuntimeError(f"workers not replaced within {timeout:g} s:\n{self.tail()}")

    def stop(self) -> int | None:
        """Stops gracefully (SIGTERM), then kills whatever is left of the group; the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT)
        # A master that did not stop in time, or a worker left behind by one that died.
        with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.wait(timeout=STOP_TIMEOUT)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def serving_corpus(corpus: Path, workers: int, name: str) -> Iterator[Gunicorn]:
    """Gunicorn serving `corpus` from an index in a temporary folder, ready, rate limit off."""
    with tempfile.TemporaryDirectory(prefix=f"qa-{name}-") as work:
        env = {
            "QA_CORPUS": str(corpus.resolve()),
            "QA_INDEX": str(Path(work, "index")),
            "QA_RATE_LIMIT": "off",
        }
        with Gunicorn(env, Path(work, "gunicorn.log"), workers) as server:
            server.wait_ready()
            yield server


# Each node of a local Ray cluster: one CPU, a small object store, on loopback.
RAY_NODE = {"num_cpus": 1, "object_store_memory": 80 * 1024 * 1024, "node_ip_address": "127.0.0.1"}


@contextlib.contextmanager
def local_ray(nodes: int, temp_dir: Path | None = None) -> Iterator[Any]:
    """A real Ray cluster of `nodes` nodes (a head and workers) on this machine, every process on
    127.0.0.1, with this process one of its drivers; yields ray.cluster_utils.Cluster.

    Ray binds to the machine's network address unless RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER is "0"
    when it is imported, so the variable is set first (tests/conftest.py sets it for the tests).
    """
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    import ray
    from ray._common.utils import get_default_ray_temp_dir
    from ray.cluster_utils import Cluster

    from qa.common.raycluster import NAMESPACE

    # In the system's temporary folder by default: Ray's socket paths must stay under 108 bytes.
    temp = temp_dir or Path(tempfile.mkdtemp(prefix="qa-ray-"))
    # Ray's Cluster records the head's address in its default folder (/tmp/ray) whatever the
    # head's own temp_dir, and fails on a machine where nothing has made that folder yet.
    Path(get_default_ray_temp_dir()).mkdir(parents=True, exist_ok=True)
    head = {**RAY_NODE, "include_dashboard": False, "temp_dir": str(temp)}
    started = Cluster(initialize_head=True, head_node_args=head)
    try:
        for _ in range(nodes - 1):
            started.add_node(**RAY_NODE)
        ray.init(address=started.address, namespace=NAMESPACE, log_to_driver=False)
        started.wait_for_nodes()
        yield started
    finally:
        ray.shutdown()
        started.shutdown()
        if temp_dir is None:
            shutil.rmtree(temp, ignore_errors=True)
