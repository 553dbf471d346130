"""The benchmark command runs end to end on a tiny corpus; its figures are not asserted."""

from click.testing import CliRunner

from qa.cli import main


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
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = out.read_text("utf-8")
    assert "Produced by `qa bench --sizes 200 " in report
    assert "| 200 |" in report.split("## Against")[0]  # the index table's row
    assert "| 200 |" in report.split("## Against")[1]  # the baselines' row
    assert "HTTP part skipped" in report


def test_bench_rejects_sizes_that_are_not_numbers(tmp_path):
    result = CliRunner().invoke(main, ["bench", "--sizes", "ten", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "--sizes" in result.output
