"""The `qa` command, run as a user runs it: through click's runner and as a real process."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from qa.cli import main
from tests.helpers import ANSWER_KEYS, DEFAULT_CORPUS


@pytest.fixture
def cli(tmp_path):
    def run(*args: str, input: str | None = None):
        env = {"QA_INDEX": str(tmp_path / "index"), "QA_CORPUS": str(DEFAULT_CORPUS)}
        return CliRunner().invoke(main, list(args), input=input, env=env)

    return run


def test_index_summarizes(cli):
    result = cli("index")
    assert result.exit_code == 0, result.output
    assert "Indexed 2 documents" in result.output and "passages" in result.output


def test_index_reports_skipped_files(tmp_path):
    (tmp_path / "good.txt").write_text("A sentence about rivers.\n", "utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00bad")
    result = CliRunner().invoke(
        main, ["index", "--corpus", str(tmp_path), "--index", str(tmp_path / "i")]
    )
    assert result.exit_code == 0
    assert "Skipped bad.txt: not UTF-8" in result.output


def test_ask_prints_a_cited_answer(cli):
    result = cli("ask", "Who backed the YPG in its May 2015 offensive?")
    assert result.exit_code == 0
    assert "Assyrian Syriac Military Council" in result.output
    assert "[1] Al-Hasakah city offensive › Background" in result.output


def test_ask_json_is_the_answer_object(cli):
    result = cli("ask", "--json", "-k", "2", "Which checkpoint was recaptured on 6 June?")
    answer = json.loads(result.output)
    assert set(answer) == ANSWER_KEYS
    assert len(answer["citations"]) == 2 and "Panorama checkpoint" in answer["citations"][0]["text"]


def test_ask_with_history(cli):
    result = cli(
        "ask",
        "--json",
        "--history",
        "What happened at the Kwayres air base?",
        "Who recaptured it according to Kurdish sources?",
    )
    answer = json.loads(result.output)
    assert "government troops recaptured the base" in answer["citations"][0]["text"]
    assert "kwayr" in answer["query"]["from_history"]


def test_chat_keeps_the_conversation(cli):
    result = cli(
        "ask",
        input="What happened at the Kwayres air base?\n"
        "Who recaptured it according to Kurdish sources?\n",
    )
    assert result.exit_code == 0
    assert "Kwayres air base" in result.output
    assert "government troops recaptured the base" in result.output


def test_abstains_plainly(cli):
    result = cli("ask", "What is the boiling point of water?")
    assert result.exit_code == 0
    assert "do not contain an answer" in result.output and "[1]" not in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["ask", ""], "the question is empty"),
        (["ask", "x", "-k", "99"], "99 is not in the range"),
        (["ask", "x", "--document", "nope"], "unknown document 'nope'"),
        (["ask", "x", "--corpus", "/no/such/folder"], "corpus folder not found"),
    ],
)
def test_errors_are_one_clear_line(cli, args, message):
    result = cli(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_the_installed_command_runs(tmp_path):
    env = {"QA_INDEX": str(tmp_path / "index"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    qa = [sys.executable, "-m", "qa.cli"]
    done = subprocess.run(
        [*qa, "ask", "How many civilians were killed?"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "25 civilians killed" in done.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    done = subprocess.run(
        [*qa, "index", "--corpus", str(empty)], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"Error: no usable document in {empty}"]


def test_index_shows_a_progress_bar_on_a_large_corpus(tmp_path):
    corpus = tmp_path / "many"
    corpus.mkdir()
    for n in range(250):
        (corpus / f"note-{n:03d}.txt").write_text(f"Note {n} is about river number {n}.\n", "utf-8")
    result = CliRunner().invoke(
        main, ["index", "--corpus", str(corpus), "--index", str(tmp_path / "i")]
    )
    assert result.exit_code == 0, result.output
    assert "Reading files" in result.output
    assert "Indexed 250 documents" in result.output


def test_index_of_a_small_corpus_shows_no_bar(cli):
    assert "Reading files" not in cli("index", "--rebuild").output
