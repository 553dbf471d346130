"""Reading a corpus on a Ray cluster (`qa index --cluster ADDRESS`): its files parsed, split,
analyzed and counted by actors on the cluster's nodes, one per CPU; the segments are written here.

The files are read here and sent to the actors as bytes, so the nodes need not see the corpus
folder: only qa (the same version, with its `cluster` extra) must be installed on each. Each actor
reads the chunks it is given in the order given, with one reader (qa.common.codes), so the index
is the one a local build makes, byte for byte. A chunk whose actor is lost (its node left, its
process died) is read again with a reader of its own, by another actor, or here when that fails
too: a build loses no file to a lost node. The actors are made anew when a node has joined, so
a node that left and returned is used again by the next build.
"""

from __future__ import annotations

import logging
import pickle
import time
import uuid
from collections import deque
from collections.abc import Iterator
from functools import cache
from typing import Any

from qa.common.raycluster import ClusterUnavailable, alive_nodes, connect
from qa.index.build import Chunk, ChunkTask, Reader, read_chunk

log = logging.getLogger(__name__)

# Chunks sent ahead to each actor, so that none waits while the results are joined here.
AHEAD = 2
# How long the actors may take to start before the build goes on with those that did.
START_SECONDS = 60.0


class ChunkActor:
    """Reads chunks on a node of the cluster (a Ray actor), one build's with one reader."""

    def __init__(self) -> None:
        self._build = ""
        self._reader = Reader()

    def ready(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()

    def read(self, build: str, task: ChunkTask, contents: list[bytes | OSError]) -> bytes:
        """The chunk, read with this build's reader: the build's chunks come in order."""
        if build != self._build:
            self._build, self._reader = build, Reader()
        return _packed(read_chunk(task, contents, self._reader))

    def read_alone(self, task: ChunkTask, contents: list[bytes | OSError]) -> bytes:
        """The chunk, read with a reader of its own: it may come in any order."""
        return _packed(read_chunk(task, contents, Reader()))


def _packed(chunk: Chunk) -> bytes:
    """The chunk as one pickle: unpickled, its arrays are the driver's own. Returned as is, they
    would be views of Ray's object store, pinned there until the build ends, and a large build
    would fill the store (which then spills to disk)."""
    return pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)


@cache
def _remote() -> Any:
    import ray

    return ray.remote(ChunkActor)


class RayReaders:
    """Reads the chunks of qa.index.build.read_and_count on the Ray cluster at `address`, one
    actor per CPU; joined at the first chunk to read, so an index already in step costs nothing.

    The actors serve build after build (`qa index --watch`); they are made anew when a node has
    joined the cluster since they were, so a node that left and returned is used again.
    """

    def __init__(self, address: str) -> None:
        self.address = address
        self._actors: list[Any] = []
        self._seen: set[str] = set()  # the nodes alive when the actors were made
        self.nodes: set[str] = set()  # the nodes the actors started on
        self._told: dict[str, int] = {}  # each reader's strings joined so far (qa.common.codes)

    def __call__(self, tasks: list[ChunkTask]) -> Iterator[Chunk]:
        if not tasks:
            return
        self._start()
        build = uuid.uuid4().hex
        sent: deque[tuple[ChunkTask, list[bytes | OSError], Any, Any]] = deque()
        for number, task in enumerate(tasks):
            contents = task.contents()
            if self._actors:
                actor = self._actors[number % len(self._actors)]
                sent.append((task, contents, actor, actor.read.remote(build, task, contents)))
            else:
                sent.append((task, contents, None, None))
            if len(sent) >= AHEAD * max(len(self._actors), 1):
                yield self._result(*sent.popleft())
        while sent:
            yield self._result(*sent.popleft())

    def _result(self, task: ChunkTask, contents: list, actor: Any, ref: Any) -> Chunk:
        """The chunk an actor read; read again by another, or here, when that one was lost."""
        import ray
        from ray.exceptions import RayError, RayTaskError

        while actor is not None:
            try:
                chunk = pickle.loads(ray.get(ref))
                if self._in_order(chunk):
                    return chunk
                log.warning("reading %s again: a chunk before it was lost", task.paths[0])
            except RayTaskError:
                raise  # reading failed in qa's own code, which would fail here as well
            except RayError as exc:
                log.warning("reading %s again: its Ray actor was lost (%s)", task.paths[0], exc)
                # No more chunks for it (not restarted: see _start).
                self._actors = [other for other in self._actors if other is not actor]
            actor = self._actors[0] if self._actors else None
            if actor is not None:
                ref = actor.read_alone.remote(task, contents)
        chunk = read_chunk(task, contents, Reader())
        self._in_order(chunk)
        return chunk

    def _in_order(self, chunk: Chunk) -> bool:
        """Whether the chunk's new strings follow those its reader told before (they do not
        when a chunk of that reader was lost: its node's objects went with the node, while a
        later, small one came back inline); recorded when they do."""
        told = [chunk.counts.numbering, chunk.words.numbering]
        if any(self._told.get(new.coder, 0) != new.first for new in told):
            return False
        for new in told:
            self._told[new.coder] = new.first + len(new.strings)
        return True

    def _start(self) -> None:
        """One actor per CPU of the cluster (those that started within START_SECONDS), made
        anew when a node joined since the last were made."""
        import ray
        from ray.exceptions import GetTimeoutError, RayError

        connect(self.address)
        alive = set(alive_nodes())
        if self._actors and alive <= self._seen:
            return
        self.close()
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if cpus < 1:
            raise ClusterUnavailable(f"the Ray cluster at {self.address} has no CPU to read on")
        # Not restarted when lost: its chunks are read by the others (a restart could wait
        # forever for a CPU, with chunks queued for it).
        made = [
            _remote().options(num_cpus=1, max_restarts=0, max_task_retries=0).remote()
            for _ in range(cpus)
        ]
        deadline = time.monotonic() + START_SECONDS
        self._seen, self.nodes = alive, set()
        for actor, ref in [(actor, actor.ready.remote()) for actor in made]:
            try:
                self.nodes.add(ray.get(ref, timeout=max(0.0, deadline - time.monotonic())))
                self._actors.append(actor)
            except (GetTimeoutError, RayError):
                ray.kill(actor, no_restart=True)  # its CPU is taken: the others read
        if not self._actors:
            raise ClusterUnavailable(
                f"no reader started on the Ray cluster at {self.address} in {START_SECONDS:g} s"
            )

    def close(self) -> None:
        """Lets the actors go, and their CPUs (they go anyway when this process leaves)."""
        if not self._actors:
            return
        import ray

        for actor in self._actors:
            ray.kill(actor, no_restart=True)
        self._actors = []
