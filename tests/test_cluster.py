"""A sharded index served from Ray actors on a real three-node Ray cluster on this machine (a head
and two workers, every process on 127.0.0.1): the same answers as one index, updates reach their
shard, a killed shard actor is restarted and costs at most the questions in flight, as 503s."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import ray
from click.testing import CliRunner

from qa.answer.engine import Engine
from qa.answer.model import as_json
from qa.answer.shards import ShardUnavailable
from qa.cli import main
from qa.common import raycluster
from qa.index import shards, store
from qa.service import cluster
from qa.service.app import create_app
from qa.tools.processes import children
from qa.tools.serving import RAY_NODE, Gunicorn, fetch
from tests.helpers import DEFAULT_CORPUS, ROOT, until

SEEDS = [json.loads(line)["question"] for line in (ROOT / "tests/data/seeds-dev.jsonl").open()]
LOOPBACK = {"127.0.0.1", "[::ffff:127.0.0.1]"}


def write_corpus(folder: Path) -> None:
    """The default corpus, and a copy of one of its articles named so that it goes to the shard
    the other two files leave empty (its sentences tie with the original's)."""
    shutil.copytree(DEFAULT_CORPUS, folder)
    used = {shards.shard_of(p.name, 3) for p in folder.iterdir()}
    twin = next(
        name for n in range(100) if shards.shard_of(name := f"twins/copy-{n}.txt", 3) not in used
    )
    (folder / twin).parent.mkdir()
    shutil.copy(DEFAULT_CORPUS / "al-hasakah-city-offensive.txt", folder / twin)


@pytest.fixture(scope="module")
def served(ray_cluster, tmp_path_factory):
    """The corpus indexed in one shard and in three; the three served by Ray actors."""
    root = tmp_path_factory.mktemp("cluster")
    write_corpus(root / "corpus")
    one = Engine.open(root / "corpus", root / "one")
    Engine.open(root / "corpus", root / "three", shards=3)
    on_ray = Engine.open(
        root / "corpus", root / "three", serve=cluster.ray_shards(ray_cluster.address)
    )
    return root, one, on_ray


def answered(engine: Engine, question: str, **asked) -> dict:
    answer = as_json(engine.ask(question, **asked))
    answer.pop("took_ms")
    return answer


def actors_of(index_dir: Path) -> list[str]:
    prefix = f"qa-{cluster.index_tag(index_dir)}-"
    return sorted(n for n in ray.util.list_named_actors() if n.startswith(prefix))


def test_three_shards_on_ray_answer_every_question_as_one_index_does(served):
    root, one, on_ray = served
    assert isinstance(on_ray.shards, cluster.RayShards)
    assert on_ray.shards.names() == ["shard 0", "shard 1", "shard 2"]
    differ = [q for q in SEEDS if answered(one, q) != answered(on_ray, q)]
    assert differ == []
    only = ["al-hasakah-city-offensive"]
    for question in SEEDS[:6]:
        assert answered(one, question, documents=only) == answered(on_ray, question, documents=only)
    history = SEEDS[:2]
    assert answered(one, "and after that?", history=history) == answered(
        on_ray, "and after that?", history=history
    )
    version = on_ray.version_dir.name
    assert [n.split(version)[1] for n in actors_of(root / "three")] == [
        f"-shard{k}-r0" for k in range(3)
    ]


def test_readyz_lists_the_shards_and_the_nodes_they_run_on(served, ray_cluster):
    _, one, on_ray = served
    client = create_app({"TESTING": True, "ENGINE": on_ray}).test_client()
    ready = client.get("/readyz").json
    assert [(s["name"], s["replicas"]) for s in ready["shards"]] == [
        (f"shard {k}", 1) for k in range(3)
    ]
    alive = {n["NodeID"] for n in ray.nodes() if n["Alive"]}

    def nodes() -> list[str]:
        ready = client.get("/readyz").json
        return [node for s in ready["shards"] for node in s["nodes"]]

    # Each actor is asked for the next node in turn, but Ray may place one elsewhere (it once
    # put all three on one node): qa then spreads them, one a node.
    assert until(lambda: sorted(nodes()) == sorted(alive))
    assert ready["documents"] == 3 and ready["index"] == on_ray.version_dir.name
    # In-process shards are listed too; one shard lists none.
    local = Engine.load_version(on_ray.corpus_dir, on_ray.index_dir, on_ray.version_dir)
    ready = create_app({"TESTING": True, "ENGINE": local}).test_client().get("/readyz").json
    assert ready["shards"] == [
        {"name": f"shard {k}", "replicas": 1, "nodes": ["local"]} for k in range(3)
    ]
    assert (
        create_app({"TESTING": True, "ENGINE": one}).test_client().get("/readyz").json["shards"]
        == []
    )


def test_every_ray_listener_is_on_loopback(served, ray_cluster):
    pids = set()
    for node in ray_cluster.list_all_nodes():
        for infos in node.all_processes.values():
            pids.update(info.process.pid for info in infos)
    pids |= {child for pid in list(pids) for child in descendants(pid)}
    listeners = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True)
    ours = []
    for line in listeners.stdout.splitlines():
        owners = {int(p) for p in re.findall(r"pid=(\d+)", line)}
        if owners & pids:
            ours.append(line.split()[3].rpartition(":")[0])
    # The GCS, three raylets and their object managers, the shard actors, ...
    assert len(ours) >= 10
    assert set(ours) <= LOOPBACK, ours


def pid_of(actor) -> int | None:
    """The process of a Ray actor; None while it cannot answer."""
    try:
        return ray.get(actor.__ray_call__.remote(lambda self: os.getpid()), timeout=5)
    except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
        return None


def descendants(pid: int) -> set[int]:
    found = set()
    for child in children(pid):
        found |= {child} | descendants(child)
    return found


def test_an_update_reaches_its_shard_through_the_cluster(ray_cluster, tmp_path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    Engine.open(corpus, tmp_path / "three", shards=3)
    serve = cluster.ray_shards(ray_cluster.address)
    engine = Engine.open(corpus, tmp_path / "three", serve=serve)
    app = create_app({"TESTING": True, "ENGINE": engine, "RELOAD": "0.01", "RATE_LIMIT": "off"})
    client = app.test_client()
    question = {"question": "How many metres did the gauge read at Hasakah?", "k": 1}
    assert client.post("/api/ask", json=question).status_code == 200
    old = actors_of(tmp_path / "three")
    assert len(old) == 3

    changed = corpus / "al-hasakah-city-offensive.txt"
    changed.write_text(changed.read_text("utf-8") + "\nThe Hasakah gauge read nine metres.\n")
    args = ["index", "--corpus", str(corpus), "--index", str(tmp_path / "three")]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0 and "Files: +0 ~1 -0" in done.output, done.output
    time.sleep(0.05)
    answer = client.post("/api/ask", json=question).json
    assert answer["citations"][0]["text"] == "The Hasakah gauge read nine metres."
    assert answer["citations"][0]["document"]["id"] == "al-hasakah-city-offensive"
    fresh = Engine.open(corpus, tmp_path / "one")
    reloaded = app.config["ENGINE"]
    assert reloaded.version_dir == store.current(tmp_path / "three")
    assert answered(reloaded, question["question"]) == answered(fresh, question["question"])
    # The new version has actors of its own; the old one's are gone.
    new = actors_of(tmp_path / "three")
    assert len(new) == 3 and not set(new) & set(old)
    assert all(reloaded.version_dir.name in name for name in new)


def test_a_killed_shard_actor_costs_at_most_the_questions_in_flight(served, ray_cluster):
    root, one, on_ray = served
    expected = {q: answered(one, q) for q in SEEDS}
    env = {
        "QA_CORPUS": str(root / "corpus"),
        "QA_INDEX": str(root / "three"),
        "QA_CLUSTER": ray_cluster.address,
        "QA_RATE_LIMIT": "off",
        "QA_RELOAD": "off",
    }
    with Gunicorn(env, root / "gunicorn.log", workers=2) as server:
        ready = server.wait_ready()
        assert len(ready["shards"]) == 3
        before = actors_of(root / "three")
        assert len(before) == 3
        outcomes: list[tuple[str, int, dict]] = []
        stop = threading.Event()

        def ask_on() -> None:
            while not stop.is_set():
                for question in SEEDS:
                    status, _, body = fetch(
                        f"{server.base_url}/api/ask", {"question": question}, timeout=15
                    )
                    outcomes.append((question, status, body))

        clients = [threading.Thread(target=ask_on) for _ in range(2)]
        for thread in clients:
            thread.start()
        try:
            time.sleep(1.0)
            victim = ray.get_actor(before[1], namespace=raycluster.NAMESPACE)
            pid = pid_of(victim)
            asked_before = len(outcomes)
            ray.kill(victim, no_restart=False)
            deadline = time.monotonic() + 30
            while pid_of(victim) in (pid, None):
                assert time.monotonic() < deadline, "not restarted"
                time.sleep(0.1)
            time.sleep(1.0)
        finally:
            stop.set()
            for thread in clients:
                thread.join(30)
        assert len(outcomes) > asked_before + 10
        failed = [body for _, status, body in outcomes if status != 200]
        assert len(failed) <= len(clients)
        for body in failed:
            assert body["error"]["code"] == "shard_unavailable"
            assert "shard 1 of the index cannot answer" in body["error"]["message"]
        assert {status for _, status, _ in outcomes} <= {200, 503}
        for question, status, body in outcomes:
            if status == 200:
                body.pop("took_ms")
                assert body == expected[question]
        # Restarted, it answers every question in full again.
        for question in SEEDS:
            status, _, body = fetch(f"{server.base_url}/api/ask", {"question": question})
            assert status == 200
            body.pop("took_ms")
            assert body == expected[question]
        # Both workers (and this process) share the same actors rather than each making its own.
        assert actors_of(root / "three") == before
        assert "exited with code" not in server.tail(400)


def test_a_node_that_leaves_and_returns_is_used_again(ray_cluster, tmp_path, monkeypatch):
    monkeypatch.setattr(cluster, "LOOK_SECONDS", 0.5)
    write_corpus(tmp_path / "corpus")
    one = Engine.open(tmp_path / "corpus", tmp_path / "one")
    Engine.open(tmp_path / "corpus", tmp_path / "three", shards=3)
    leaving = ray_cluster.add_node(**RAY_NODE)
    ray_cluster.wait_for_nodes()
    serve = cluster.ray_shards(ray_cluster.address, replicas=2)
    on_ray = Engine.open(tmp_path / "corpus", tmp_path / "three", serve=serve)

    def nodes() -> list[str]:
        return [node for _, held in on_ray.shard_places() for node in held]

    def answers_alike() -> bool:
        try:
            return all(answered(one, q) == answered(on_ray, q) for q in SEEDS[:8])
        except ShardUnavailable:
            return False  # an actor is being restarted or moved

    try:
        alive = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
        assert until(lambda: set(nodes()) == alive)  # all four
        ray_cluster.remove_node(leaving)
        # Ray restarts its actors on the other nodes; the questions get the same answers.
        assert until(answers_alike)
        assert until(lambda: leaving.node_id not in nodes())
        returned = ray_cluster.add_node(**RAY_NODE)
        ray_cluster.wait_for_nodes()
        # qa moves actors to it, and answers as before.
        assert until(lambda: returned.node_id in nodes())
        assert until(lambda: len(set(nodes())) == 4)
        assert until(answers_alike)
    finally:
        on_ray.close()
        for name in actors_of(tmp_path / "three"):
            ray.kill(ray.get_actor(name, namespace=raycluster.NAMESPACE), no_restart=True)
    ray_cluster.remove_node(returned)


def test_nothing_of_ray_is_imported_without_qa_cluster(served, tmp_path):
    root, _, _ = served
    script = (
        "import sys\n"
        "from qa.answer.engine import Engine\n"
        "from qa.service.app import create_app\n"
        "app = create_app()\n"
        "client = app.test_client()\n"
        "assert client.get('/api/ask?q=Who+captured+Al-Hasakah').status_code == 200\n"
        "assert len(client.get('/readyz').json['shards']) == 3\n"
        f"Engine.open({str(root / 'corpus')!r}, {str(root / 'three')!r}).ask('Who?')\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "QA_CLUSTER"}
    env |= {"QA_CORPUS": str(root / "corpus"), "QA_INDEX": str(root / "three")}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
