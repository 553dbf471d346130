"""The soak and fuzz commands, run exactly as documented on a tiny budget so that they cannot rot.

Their real runs (minutes, thousands of cases) are separate commands: see the README.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import ROOT

KINDS = {"suggestion", "passage", "get", "follow-up", "scoped", "unanswerable", "novel"}


def run(script: str, *args: str, report) -> tuple[subprocess.CompletedProcess, dict]:
    """Runs bench/<script> with --json, returning the finished process and the report."""
    done = subprocess.run(
        [sys.executable, f"bench/{script}", *args, "--json", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.exists(), done.stdout + done.stderr
    return done, json.loads(report.read_text())


def test_the_soak_answers_every_request_and_reports_memory(tmp_path):
    tiny = ["--seconds", "3", "--clients", "4", "--novel-share", "0.05"]
    done, report = run("soak.py", *tiny, report=tmp_path / "soak.json")
    assert report["errors"] == 0, report["error_samples"]
    assert report["requests"] >= 50
    assert set(report["by_kind"]) == KINDS
    assert set(report["latency_ms"]) == {"p50", "p90", "p99", "max"}
    assert 0 < report["latency_ms"]["p50"] <= report["latency_ms"]["p99"]
    assert len(report["workers"]) == 2 and report["replaced_workers"] == []
    for figures in report["workers"].values():
        assert figures["samples"] >= 5
        for memory in (figures["rss_mb"], figures["pss_mb"]):
            assert set(memory) == {"start", "end", "first_fifth", "last_fifth"}
            assert memory["start"] > 0 and memory["end"] > 0
        assert isinstance(figures["pss_slope_mb_per_min"], float)
    # Three seconds say nothing about a memory trend; the exit status follows the report.
    assert done.returncode == (0 if report["ok"] else 1)
    assert "p99" in done.stdout and ("OK" in done.stdout or "FAILED" in done.stdout)


def test_the_fuzzer_finds_no_failure(tmp_path):
    done, report = run("fuzz.py", "--examples", "40", report=tmp_path / "fuzz.json")
    assert report["failures"] == 0, json.dumps(report["failure_samples"], indent=2)[:3000]
    # The boundary cases of every operation, then the generated ones.
    assert report["cases"] >= 100
    # ask (POST, GET), documents (GET, POST), a document (GET, PUT, DELETE), its file, suggestions,
    # healthz, readyz.
    assert len(report["per_operation"]) == 11
    assert not any(status.startswith("5") for status in report["statuses"])
    assert done.returncode == 0
