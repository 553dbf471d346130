"""A sharded index served from Ray actors: one actor per replica of each shard, shared by every
process that serves the same version (QA_CLUSTER, QA_REPLICAS; pip install -e '.[cluster]').

Each actor (placed on the nodes in turn) opens its shard from the index folder, which every node
must see at the same path (a shared file system), and answers the rounds of
qa.answer.shards.ShardedRanker. The actors are named after the index folder, the version, the
shard and the replica, and detached, so that every gunicorn worker (every Ray driver) finds the
same ones and a worker that dies takes none with it.
Ray restarts an actor that dies; a call that fails is asked once more (of the next replica);
a shard that still cannot answer raises ShardUnavailable, and the question gets no answer.
When a process moves to a new version, it kills the actors of versions no longer current; one
still answering from an old version makes them again. When the cluster's nodes change (one
leaves, one joins or returns), every serving process spreads the actors over the live nodes
again, one move at a time: a node that returns is used again without restarting qa.

Nothing here imports Ray until a process asks a shard: gunicorn's master, which forks the
workers, must never connect (a Ray driver's threads do not survive a fork; a forked child that
connects hangs), so it answers its warm-up questions in-process (`in_process_until_fork`).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import threading
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.answer.shards import (
    Counts,
    Shard,
    ShardSet,
    ShardUnavailable,
    shard_name,
    split,
)
from qa.common.raycluster import NAMESPACE, ClusterUnavailable, alive_nodes, connect
from qa.index import segments, store
from qa.index.disk import shared_lock

if TYPE_CHECKING:
    from qa.answer.engine import ShardServer

log = logging.getLogger(__name__)

# An answer's round takes milliseconds on a shard: one this late is stuck. A question's two
# rounds, each asked twice at worst, stay within gunicorn's QA_TIMEOUT (10 s by default).
CALL_SECONDS = 2.0
# A replica asked again waits this long: long enough for Ray to restart an actor (~1.5 s on a
# busy machine, loading its shard included).
RETRY_SECONDS = 2.5
# A process's first call waits this long for new actors to load their shards.
START_SECONDS = 60.0
# How often a serving process looks at the cluster's nodes, to spread its shards over them.
LOOK_SECONDS = 5.0

_forking = False


def in_process_until_fork() -> None:
    """This process forks the processes that serve (gunicorn's master): until `forked`, its
    shards are served in-process (the same answers), and it never connects to Ray."""
    global _forking
    _forking = True


def forked() -> None:
    """This process was forked to serve: it connects to Ray when it first asks a shard."""
    global _forking
    _forking = False


class ShardActor:
    """One replica of a shard of a version, opened from the index folder (a Ray actor)."""

    def __init__(self, version: str, number: int, bases: list[int]) -> None:
        folder = Path(version)
        # Held while the actor lives, as every process that loads a version holds it.
        self._lock = shared_lock(folder / store.MANIFEST, store.MANIFEST)
        plan = store.read_plan(folder)
        chosen = [i for i in range(len(plan.segments)) if plan.shard(i) == number]
        parts = [segments.load(folder.parent, plan.segments[i]) for i in chosen]
        deleted = [plan.deleted[i] for i in chosen]
        self.shard = Shard(parts, deleted, bases, plan.stats, plan.params)

    def node(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()

    def paragraphs(self) -> int:
        return self.shard.paragraphs()

    def counts(self, terms: list[str]) -> Counts:
        return self.shard.counts(terms)

    def hits(self, *asked: Any) -> Any:
        return self.shard.hits(*asked)


@cache
def _remote() -> Any:
    import ray

    return ray.remote(ShardActor)


def index_tag(index_dir: Path) -> str:
    """The index folder's part of its actors' names: the actors of two indexes never mix."""
    return hashlib.blake2b(str(index_dir.resolve()).encode(), digest_size=4).hexdigest()


class RayShards:
    """The shards of a version, served by Ray actors: `replicas` of each, spread over the nodes."""

    def __init__(self, saved: store.Saved, address: str, replicas: int = 1) -> None:
        self.saved, self.address, self.replicas = saved, address, replicas
        self.version = saved.folder
        self.prefix = f"qa-{index_tag(saved.folder.parent)}-"
        plan = saved.plan
        own = split(saved.segments, plan.segment_shards, plan.shards)
        self._numbers = [number for number, (chosen, _) in enumerate(own) if chosen]
        self._bases = {number: own[number][1] for number in self._numbers}
        self._turns = itertools.count()
        self._lock = threading.Lock()
        self._pid: int | None = None  # the process whose handles _actors holds
        self._actors: dict[tuple[int, int], Any] = {}
        self._nodes: list[str] = []  # the cluster's live nodes when this process connected
        self._local: ShardSet | None = None
        self._closed = threading.Event()  # set when another version serves

    def names(self) -> list[str]:
        return [shard_name(number) for number in self._numbers]

    def actor_name(self, number: int, replica: int) -> str:
        return f"{self.prefix}{self.version.name}-shard{number}-r{replica}"

    def places(self) -> list[tuple[str, list[str]]]:
        if _forking:
            return self._in_process().places()
        self._connected()
        nodes = [
            [self._node(number, replica) for replica in range(self.replicas)]
            for number in self._numbers
        ]
        return list(zip(self.names(), nodes, strict=True))

    def _node(self, number: int, replica: int) -> str:
        """Where the replica runs; asked again of the actor of its name when this process's
        handle is to one gone (moved or killed meanwhile)."""
        try:
            return self._call(number, replica, "node", ())
        except ShardUnavailable:
            return self._call(number, replica, "node", (), fresh=True)

    def paragraphs(self) -> list[int]:
        return self._ask("paragraphs")

    def counts(self, terms: list[str]) -> list[Counts]:
        return self._ask("counts", terms)

    def hits(self, *asked: Any) -> list:
        return self._ask("hits", *asked)

    def close(self) -> None:
        self._closed.set()
        if self._pid == os.getpid():
            self._sweep(keep_own=False)

    def _ask(self, method: str, *args: Any) -> list:
        """Every shard's answer, asked of one replica each at once; a shard whose replica fails
        is asked once more, of the next replica."""
        if _forking:
            return getattr(self._in_process(), method)(*args)
        import ray
        from ray.exceptions import RayError, RayTaskError

        self._connected()
        turn = next(self._turns)
        chosen = [(number, turn % self.replicas) for number in self._numbers]
        refs = [getattr(self._actor(*at), method).remote(*args) for at in chosen]
        deadline = time.monotonic() + CALL_SECONDS
        answers = []
        for (number, replica), ref in zip(chosen, refs, strict=True):
            try:
                answers.append(ray.get(ref, timeout=max(0.0, deadline - time.monotonic())))
            except RayTaskError:
                raise  # the shard's own code failed: a bug, not an outage
            except RayError:
                again = (replica + 1) % self.replicas
                answers.append(self._call(number, again, method, args, fresh=True))
        return answers

    def _call(
        self, number: int, replica: int, method: str, args: tuple, fresh: bool = False
    ) -> Any:
        """One replica's answer; `fresh`: from the actor of its name as it is now (Ray's restart
        of it, or a new one when it is gone). ShardUnavailable when it cannot answer in time."""
        import ray
        from ray.exceptions import RayError, RayTaskError

        try:
            actor = self._actor(number, replica, fresh)
            return ray.get(getattr(actor, method).remote(*args), timeout=RETRY_SECONDS)
        except RayTaskError:
            raise
        except RayError as exc:
            raise ShardUnavailable(shard_name(number), type(exc).__name__) from exc

    def _actor(
        self, number: int, replica: int, fresh: bool = False, node: str | None = None
    ) -> Any:
        """The replica's actor handle; `fresh`: looked up again (made again if gone, on
        `node` when given)."""
        at = (number, replica)
        if fresh or at not in self._actors:
            self._actors[at] = (
                _remote()
                .options(
                    name=self.actor_name(number, replica),
                    namespace=NAMESPACE,
                    get_if_exists=True,
                    lifetime="detached",
                    max_restarts=-1,
                    # A call that fails is asked again by _ask, once: not by Ray as well.
                    max_task_retries=0,
                    scheduling_strategy=self._placement(number, replica, node),
                    # A shard waits for questions most of its life; a CPU reserved for each
                    # would cap the actors of a node at its CPUs.
                    num_cpus=0,
                )
                .remote(str(self.version), number, self._bases[number])
            )
        return self._actors[at]

    def _placement(self, number: int, replica: int, node: str | None = None) -> Any:
        """On `node`, else each actor on the next node in turn, so that a shard's replicas are
        on different nodes where there are enough; another node if that one is gone (soft).
        Ray's "SPREAD" is only best effort for actors that reserve no CPU: it once put all
        three on one node."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        if node is None and not self._nodes:
            return "SPREAD"
        if node is None:
            place = (self._numbers.index(number) * self.replicas + replica) % len(self._nodes)
            node = self._nodes[place]
        return NodeAffinitySchedulingStrategy(node, soft=True)

    def _connected(self) -> None:
        """Connects once per process (a forked one starts again), makes or finds the actors,
        waits for them to load their shards, and kills those of versions no longer current."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            import ray
            from ray.exceptions import RayError

            try:
                connect(self.address)
            except ClusterUnavailable as exc:
                raise ShardUnavailable(self.names()[0], str(exc)) from exc
            self._actors = {}
            self._nodes = alive_nodes()
            at = self._replicas()
            ready = [self._actor(*replica).node.remote() for replica in at]
            deadline = time.monotonic() + START_SECONDS
            for (number, _), ref in zip(at, ready, strict=True):
                try:
                    ray.get(ref, timeout=max(0.0, deadline - time.monotonic()))
                except RayError as exc:
                    why = f"not started: {type(exc).__name__}"
                    raise ShardUnavailable(shard_name(number), why) from exc
            self._sweep(keep_own=True)
            self._pid = os.getpid()
            threading.Thread(target=self._follow_nodes, name="qa-nodes", daemon=True).start()

    def _follow_nodes(self) -> None:
        """Every LOOK_SECONDS while this process serves the version: at first, and when the
        cluster's nodes changed (one left, or joined), the actors are spread over those alive
        (Ray may place a new actor elsewhere than asked, on a node that joined just before)."""
        import ray

        pid, seen, spread = os.getpid(), self._nodes, False
        while not self._closed.wait(LOOK_SECONDS):
            if self._pid != pid or not ray.is_initialized():
                return  # another version serves, or the process left the cluster
            try:
                alive = alive_nodes()
                if alive != seen or not spread:
                    seen, self._nodes = alive, alive
                    spread = self._spread(alive)
            except Exception:  # the cluster is out of reach for now: looked at again later
                log.warning("cannot spread the shards over the Ray nodes", exc_info=True)
                spread = False

    def _spread(self, nodes: list[str]) -> bool:
        """Moves actors, one at a time, from a node holding most of them to one holding fewest,
        until no node holds two more than another; False when an actor could not say where it
        is (restarting: looked at again later).

        Every serving process does the same from what it sees, so they move the same actors.
        """
        while True:
            where = self._where()
            if where is None:
                return False
            held: dict[str, list[tuple[int, int]]] = {node: [] for node in nodes}
            for at, node in sorted(where.items()):
                held.setdefault(node, []).append(at)
            fullest = max(held, key=lambda node: (len(held[node]), node))
            emptiest = min(nodes, key=lambda node: (len(held[node]), node))
            if len(held[fullest]) - len(held[emptiest]) <= 1:
                return True
            there = {number for number, _ in held[emptiest]}
            movable = [at for at in held[fullest] if at[0] not in there]
            if not movable:
                return True
            self._move(movable[-1], emptiest)

    def _where(self) -> dict[tuple[int, int], str] | None:
        """The node of every actor, or None when one cannot answer."""
        import ray
        from ray.exceptions import RayError

        at = self._replicas()
        # Looked up again: another process may have moved one.
        refs = [self._actor(*replica, fresh=True).node.remote() for replica in at]
        try:
            return dict(zip(at, ray.get(refs, timeout=RETRY_SECONDS), strict=True))
        except RayError:
            return None

    def _replicas(self) -> list[tuple[int, int]]:
        """(shard, replica) of every actor, shard by shard."""
        return [(number, r) for number in self._numbers for r in range(self.replicas)]

    def _move(self, at: tuple[int, int], node: str) -> None:
        """Makes the replica's actor anew on `node`; the questions it is answering meanwhile
        are asked again (see `_ask`), of the new one once it has loaded its shard."""
        import ray

        name = self.actor_name(*at)
        log.info("moving %s to node %s", name, node)
        ray.kill(self._actor(*at), no_restart=True)
        deadline = time.monotonic() + RETRY_SECONDS
        while time.monotonic() < deadline:  # until its name is free for the new one
            try:
                ray.get_actor(name, namespace=NAMESPACE)
            except ValueError:
                break
            time.sleep(0.05)
        moved = self._actor(*at, fresh=True, node=node)
        ray.get(moved.node.remote(), timeout=START_SECONDS)

    def _sweep(self, keep_own: bool) -> None:
        """Kills the actors of this index's versions other than the current one (and this
        one, when `keep_own`)."""
        import ray

        current = store.current(self.version.parent)
        keep = {current.name} if current is not None else set()
        if keep_own:
            keep.add(self.version.name)
        for name in ray.util.list_named_actors():
            version = name[len(self.prefix) :].split("-shard")[0]
            if name.startswith(self.prefix) and version not in keep:
                with contextlib.suppress(ValueError):  # gone meanwhile
                    ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)

    def _in_process(self) -> ShardSet:
        if self._local is None:
            from qa.answer.engine import local_shards

            self._local = local_shards(self.saved)
        return self._local


def ray_shards(address: str, replicas: int = 1) -> ShardServer:
    """The server of a loaded version's shards on the Ray cluster at `address`."""

    def serve(saved: store.Saved) -> ShardSet:
        return RayShards(saved, address, replicas)

    return serve


def shard_server(address: str | None, replicas: int = 1) -> ShardServer:
    """Ray's when a cluster address is given (QA_CLUSTER), else this process's."""
    if address is None:
        from qa.answer.engine import local_shards

        return local_shards
    return ray_shards(address, replicas)
