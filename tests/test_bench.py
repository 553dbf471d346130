"""The benchmark command runs end to end on a tiny corpus; its figures are not asserted."""

import importlib
import json
import re
import sys

from click.testing import CliRunner

from qa.answer.model import as_json
from qa.cli import main
from qa.tools.bench import HTTP_QUESTIONS


def test_bench_runs_on_a_tiny_corpus_and_writes_a_table(tmp_path):
    out = tmp_path / "RESULTS.md"
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "--sizes",
            "200",
            "--questions",
            "5",
            "--okapi-questions",
            "2",
            "--http-seconds",
            "0",
            "--builds",
            "2",
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = out.read_text("utf-8")
    assert "Produced by `qa bench --sizes 200 " in report
    index_row = re.search(r"^\| 200 \|(.*)\|$", report.split("## Against")[0], re.M)
    assert index_row, report
    cells = index_row.group(1).split("|")
    # Both builds are listed, and the reported time (their median) lies between them.
    build, builds = float(cells[2]), [float(s) for s in cells[3].split(",")]
    assert len(builds) == 2 and min(builds) <= build <= max(builds)
    assert "| 200 |" in report.split("## Against")[1].split("## Where")[0]  # the baselines' row
    # The profile's rows, the default corpus's and the size's: every step of an answer seen.
    header, *rows = [
        line
        for line in report.split("## Where")[1].split("## HTTP")[0].splitlines()
        if "| " in line
    ]
    names = header.strip("| ").split(" | ")
    assert names[:2] == ["corpus", "Engine.ask"]
    cells = [row.strip("| ").split(" | ") for row in rows]
    assert [row[0] for row in cells] == ["default corpus", "200 sentences"]
    for row in cells:
        assert "-" not in row, row
        whole, steps = float(row[1]), [float(cell.split()[0]) for cell in row[2:]]
        assert whole > 0 and all(step >= 0 for step in steps), row
        # The steps that are not parts of others, and what they leave, add up to the whole.
        top = [step for step, name in zip(steps, names[2:], strict=True) if "(in " not in name]
        assert abs(sum(top) - whole) <= 0.0005 * (len(top) + 1)
    assert "HTTP part skipped" in report


def test_bench_measures_http_with_gunicorn_and_wrk(tmp_path):
    out = tmp_path / "RESULTS.md"
    command = ["bench", "--sizes", "200", "--questions", "5", "--okapi-questions", "2"]
    command += ["--http-seconds", "1", "--connections", "2", "--work", str(tmp_path / "work")]
    result = CliRunner().invoke(main, [*command, "--out", str(out)])
    assert result.exit_code == 0, result.output
    http = out.read_text("utf-8").split("## HTTP")[1]
    for index in ("default corpus", "200 sentences"):
        for route in ("POST /api/ask", "POST /bench/precomputed", "GET /healthz"):
            row = re.search(rf"^\| {index} \| {route} \|(.*)\|$", http, re.M)
            assert row, (index, route, http)
            rps, share, _, p50, p99, server_cpu, client_cpu, errors = row.group(1).split("|")
            assert float(rps.replace(",", "")) > 0 and float(p99) >= float(p50) > 0
            assert float(server_cpu.replace(",", "")) > 0 and float(client_cpu.replace(",", "")) > 0
            assert int(errors) == 0


def test_bench_rejects_sizes_that_are_not_numbers(tmp_path):
    result = CliRunner().invoke(main, ["bench", "--sizes", "ten", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "--sizes" in result.output


def test_the_bench_app_checks_a_request_as_ask_does_and_answers_what_it_made_at_start(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("QA_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("QA_RATE_LIMIT", "off")
    monkeypatch.setenv("QA_BENCH_QUESTION", HTTP_QUESTIONS[0])
    modules = ("qa.wsgi", "qa.tools.bench_wsgi")  # each builds its app when imported: afresh here
    for name in modules:
        monkeypatch.delitem(sys.modules, name, raising=False)
    bench_app = importlib.import_module("qa.tools.bench_wsgi")
    for name in modules:  # and not for later tests, once this one's index is gone
        del sys.modules[name]
    client = bench_app.app.test_client()

    answered = client.post("/bench/precomputed", json={"question": "anything else"})
    assert answered.status_code == 200
    assert answered.get_json()["citations"] == as_json(bench_app.PRECOMPUTED)["citations"] != []
    for bad in ({"data": "{", "content_type": "application/json"}, {"data": "question=x"}):
        refused = client.post("/bench/precomputed", **bad)
        asked = client.post("/api/ask", **bad)
        assert refused.status_code == asked.status_code >= 400
        assert refused.get_json()["error"] == asked.get_json()["error"]


def test_bench_shards_serves_a_split_index_beside_one_with_the_same_answers(tmp_path):
    # In-process and on a local two-node Ray cluster (on 127.0.0.1, see tests/conftest.py).
    out = tmp_path / "RESULTS.md"
    command = ["bench", "--sizes", "200", "--questions", "5", "--okapi-questions", "1"]
    command += ["--http-seconds", "0", "--builds", "1", "--shards", "2", "--ray"]
    result = CliRunner().invoke(
        main, [*command, "--work", str(tmp_path / "work"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = out.read_text("utf-8")
    assert "--builds 1 --shards 2 --ray`" in report
    section = report.split("## Shards")[1].split("## Where")[0]
    rows = re.findall(r"^\| 200 \| 2 \|(.*)\|$", section, re.M)
    cells = [[cell.strip() for cell in row.split("|")] for row in rows]
    assert [row[1] for row in cells] == ["1 shard", "N shards, in-process", "N shards, Ray actors"]
    assert [row[-1] for row in cells] == ["", "0 of 5", "0 of 5"]
    assert all(float(row[2]) > 0 for row in cells)  # every p50 measured
    # The Ray actors serve the index built again on the cluster's nodes, as the local build.
    assert re.fullmatch(r"[\d.]+ \(same bytes\)", cells[2][0])
    split = tmp_path / "work" / "index-200-2-shards"
    manifest = json.loads(next(split.glob("v-*/manifest.json")).read_text("utf-8"))
    assert manifest["shards"] == 2
