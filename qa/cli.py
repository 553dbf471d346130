"""The `qa` command: index a corpus, ask questions, serve the web app."""

from __future__ import annotations

import contextlib
import json
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from qa import settings
from qa.common.raycluster import ClusterUnavailable
from qa.index import writer
from qa.index.build import IndexNotSaved, Readers
from qa.index.store import IndexBusy
from qa.ingest.corpus import CorpusError

if TYPE_CHECKING:
    # Only the commands that answer load the engine: `qa index` of one changed file should not
    # wait for the answering code to be imported.
    from qa.answer.engine import Engine
    from qa.answer.model import Answer
    from qa.index.remote import RayReaders

corpus_option = click.option(
    "--corpus",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of .txt/.md documents [default: the repository's corpus/; env QA_CORPUS].",
)
index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the saved index [default: a folder under ~/.cache/qa; env QA_INDEX].",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qa")
def main() -> None:
    """Answers questions with cited sentences from a folder of documents."""


# Seconds between `qa index --watch`'s looks at the folder.
WATCH_SECONDS = 1.0


def open_engine(
    corpus: Path | None,
    index_dir: Path | None,
    rebuild: bool = False,
    progress: Callable[[int, int], None] | None = None,
    wait: float | None = None,
    semantic: bool | None = None,
    optimize: bool = False,
    shards: int | None = None,
    readers: Readers | None = None,
) -> Engine:
    """The engine (its shards served on the Ray cluster QA_CLUSTER names, if any), or one clear
    error line for the user."""
    from qa.answer.engine import Engine
    from qa.semantic.encoder import Unavailable
    from qa.service.cluster import shard_server

    given = settings.Settings.from_env()
    try:
        return Engine.open(
            corpus,
            index_dir,
            rebuild=rebuild,
            optimize=optimize,
            progress=progress,
            wait=wait,
            waiting=_say_waiting,
            semantic=semantic,
            shards=shards,
            serve=shard_server(given.cluster, given.replicas),
            readers=readers,
        )
    except (CorpusError, IndexNotSaved, IndexBusy, Unavailable, ClusterUnavailable) as exc:
        raise click.ClickException(str(exc)) from exc


def _say_waiting(message: str) -> None:
    click.echo(f"{message}…", err=True)


@main.command("index")
@corpus_option
@index_option
@click.option("--rebuild", is_flag=True, help="Rebuild even when the saved index is current.")
@click.option("--optimize", is_flag=True, help="Merge the index's segments into one (per shard).")
@click.option(
    "--shards",
    type=click.IntRange(1, 1024),
    help="Split the index into N shards, by document (every file is read again when the split "
    "changes) [default: as it is, 1 for a new index].",
    metavar="N",
)
@click.option(
    "--watch",
    is_flag=True,
    help=f"Then keep the index in step with the folder, looking every {WATCH_SECONDS:g} s "
    "(Ctrl-C stops).",
)
@click.option(
    "--wait",
    type=click.FloatRange(0),
    help="While another qa index writes this index, wait at most SECONDS [default: until done].",
    metavar="SECONDS",
)
@click.option(
    "--semantic",
    is_flag=True,
    default=None,
    help="Also compute the passages' vectors for the semantic stage (env QA_SEMANTIC=1).",
)
@click.option(
    "--cluster",
    help="Read the files on the nodes of the Ray cluster at ADDRESS (auto, HOST:PORT or "
    "ray://HOST:PORT): qa and its cluster extra installed on each; the index is written here.",
    metavar="ADDRESS",
)
def index_command(
    corpus: Path | None,
    index_dir: Path | None,
    rebuild: bool,
    optimize: bool,
    shards: int | None,
    watch: bool,
    wait: float | None,
    semantic: bool | None,
    cluster: str | None,
) -> None:
    """Build or refresh the index of a corpus, then summarize it.

    Only new and changed files are read; the summary counts files added, changed and removed
    (`+3 ~1 -2`).
    """
    started = time.perf_counter()
    readers = click.get_current_context().with_resource(_cluster_readers(cluster))
    if semantic or (semantic is None and settings.semantic_enabled()):
        # The passages' vectors are the engine's: it is loaded to make them.
        with FilesBar() as bar:
            engine = open_engine(
                corpus, index_dir, rebuild, bar.update, wait, True, optimize, shards, readers
            )
        summary, stats = engine.summary, engine.stats()
    else:
        with FilesBar() as bar:
            done = refresh_index(
                corpus, index_dir, rebuild, bar.update, wait, optimize, shards, readers
            )
        engine, summary, stats = None, done.summary, done.stats()
    click.echo(
        f"Indexed {stats['documents']} documents, {stats['passages']} passages, "
        f"{stats['terms']} terms in {time.perf_counter() - started:.2f} s"
    )
    if summary is not None:
        merged = f", {summary.merged} segments merged" if summary.merged else ""
        click.echo(f"Files: {summary.line()}{merged}")
        for old, new in summary.renamed:
            click.echo(f"Renamed {old} -> {new}")
    if readers is not None and readers.nodes:
        click.echo(f"Read on {len(readers.nodes)} Ray nodes of {cluster}")
    corpus_dir = settings.corpus_folder(corpus)
    click.echo(f"Corpus: {corpus_dir}\nIndex:  {settings.index_folder(corpus_dir, index_dir)}")
    if engine is not None and engine.ranker.vectors is not None:
        click.echo(
            f"Semantic stage: vectors of {len(engine.ranker.vectors)} passages "
            f"({engine.vector_seconds:.1f} s computing them)"
        )
    for skipped in stats["skipped"]:
        click.echo(f"Skipped {skipped['file']}: {skipped['reason']}", err=True)
    if watch:
        _watch(corpus, index_dir, wait, readers)


@contextlib.contextmanager
def _cluster_readers(address: str | None) -> Iterator[RayReaders | None]:
    """What reads files on the Ray cluster at `address` (joined at the first file to read),
    its actors let go at the end."""
    if address is None:
        yield None
        return
    from qa.index.remote import RayReaders

    readers = RayReaders(address)
    try:
        yield readers
    finally:
        readers.close()


def _watch(
    corpus: Path | None, index_dir: Path | None, wait: float | None, readers: Readers | None
) -> None:
    """Updates the index whenever the folder's files change, until interrupted."""
    click.echo(f"Watching {settings.corpus_folder(corpus)} (Ctrl-C stops)")
    try:
        while True:
            time.sleep(WATCH_SECONDS)
            done = refresh_index(corpus, index_dir, wait=wait, readers=readers)
            if done.summary is not None:
                stamp = time.strftime("%H:%M:%S")
                click.echo(f"{stamp} Files: {done.summary.line()} -> {done.version.name}")
    except KeyboardInterrupt:
        click.echo("Stopped watching.")


def refresh_index(
    corpus: Path | None,
    index_dir: Path | None,
    rebuild: bool = False,
    progress: Callable[[int, int], None] | None = None,
    wait: float | None = None,
    optimize: bool = False,
    shards: int | None = None,
    readers: Readers | None = None,
) -> writer.Update:
    """The index brought in step with its folder without loading it to answer, or one clear
    error line for the user."""
    corpus_dir = settings.corpus_folder(corpus)
    try:
        return writer.refresh(
            corpus_dir,
            settings.index_folder(corpus_dir, index_dir),
            rebuild,
            optimize,
            progress,
            wait,
            _say_waiting,
            shards=shards,
            readers=readers,
        )
    except (CorpusError, IndexNotSaved, IndexBusy, ClusterUnavailable) as exc:
        raise click.ClickException(str(exc)) from exc


class FilesBar:
    """A progress bar of the files read, on the terminal, for corpora large enough to wait for."""

    # Below this many files reading is over before a bar would help.
    MIN_FILES = 200

    def __init__(self) -> None:
        self._bar = None
        self._shown = 0

    def update(self, done: int, total: int) -> None:
        if self._bar is None and total >= self.MIN_FILES:
            self._bar = click.progressbar(
                length=total, label="Reading files", file=sys.stderr
            ).__enter__()
        if self._bar is not None:
            self._bar.update(done - self._shown)
            self._shown = done

    def __enter__(self) -> FilesBar:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc_info)


@main.command()
@click.argument("question", required=False)
@click.option(
    "--history", multiple=True, help="An earlier question of the conversation (repeatable)."
)
@click.option(
    "-k",
    type=click.IntRange(settings.K_MIN, settings.K_MAX),
    default=settings.K_DEFAULT,
    show_default=True,
    help="Citations to show.",
)
@click.option(
    "--document", "documents", multiple=True, help="Search only this document id (repeatable)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the answer object as JSON.")
@corpus_option
@index_option
def ask(
    question: str | None,
    history: tuple[str, ...],
    k: int,
    documents: tuple[str, ...],
    as_json: bool,
    corpus: Path | None,
    index_dir: Path | None,
) -> None:
    """Answer QUESTION with cited passages; with no QUESTION, chat in the terminal."""
    engine = open_engine(corpus, index_dir)
    if question is not None:
        _answer(engine, question, list(history), k, documents, as_json)
        return
    _chat(engine, list(history), k, documents, as_json)


def _answer(engine, question, history, k, documents, as_json, anchor=None) -> Answer:
    from qa.answer.shards import ShardUnavailable

    if not question.strip():
        raise click.UsageError("the question is empty")
    try:
        result = engine.ask(question, history, k=k, documents=documents or None, anchor=anchor)
    except ShardUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyError as exc:
        known = ", ".join(d.id for d in engine.documents())
        raise click.BadParameter(
            f"unknown document {exc.args[0]!r} (known: {known})", param_hint="--document"
        ) from exc
    if as_json:
        from qa.answer.model import as_json as answer_json

        click.echo(json.dumps(answer_json(result), ensure_ascii=False, indent=2))
    else:
        click.echo(render(result))
    return result


def _chat(engine, history, k, documents, as_json) -> None:
    interactive = sys.stdin.isatty()
    if interactive:
        titles = ", ".join(d.title for d in engine.documents())
        click.echo(f"Ask about: {titles}\nAn empty line or Ctrl-D ends the chat.\n")
    anchor = None
    while True:
        try:
            question = input("you> " if interactive else "")
        except EOFError:
            break
        if not question.strip():
            if interactive:
                break
            continue
        # A "tell me more" goes on from where the last answer stands in its document.
        anchor = _answer(engine, question, history, k, documents, as_json, anchor).anchor
        history.append(question)
        click.echo()


def render(result: Answer) -> str:
    """The answer as text for a terminal."""
    lines = textwrap.wrap(result.answer, 100) or [result.answer]
    if result.answer_span:
        lines.append(f"→ {result.answer_span.text}")
    for alias in result.query.aliases:
        lines.append(f"(“{alias.form}” also searched as: {', '.join(alias.names)})")
    for c in result.citations:
        where = c.document.title + (f" › {c.section}" if c.section else "")
        refs = f"  refs {', '.join(map(str, c.references))}" if c.references else ""
        lines.append("")
        lines.append(f"[{c.n}] {where}  ({c.passage_id}, score {c.score:.2f}){refs}")
        lines.extend(textwrap.wrap(c.text, 96, initial_indent="    ", subsequent_indent="    "))
    if result.query.from_history:
        lines.append("")
        lines.append(
            "(also searched, from the conversation: " + ", ".join(result.query.from_history) + ")"
        )
    return "\n".join(lines)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the aliases as JSON.")
@corpus_option
@index_option
def aliases(as_json: bool, corpus: Path | None, index_dir: Path | None) -> None:
    """List the short names the corpus defines, each with the passage that defines it."""
    engine = open_engine(corpus, index_dir)
    groups = engine.aliases.groups
    if as_json:
        rows = [{"name": g.long, "forms": g.forms, "defined_in": g.sources} for g in groups]
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not groups:
        click.echo("The corpus defines no aliases (such as `Long Name (LN)`).")
    for group in groups:
        click.echo(f"{group.long}: {', '.join(group.forms)}")
        for form, passage_id in group.sources.items():
            click.echo(f"    {form:<8} {passage_id}  {_excerpt(engine, passage_id, form)}")


def _excerpt(engine: Engine, passage_id: str, form: str, width: int = 60) -> str:
    """The defining passage's text around the form, so the definition can be checked."""
    text = engine.passage(passage_id).text
    at = max(text.find(f"({form}"), text.find(form), 0)
    start = max(0, at - width)
    return ("…" if start else "") + text[start : at + len(form) + 12] + "…"


@main.command()
@click.option(
    "--host",
    default=lambda: settings.Settings.from_env().host,
    show_default="127.0.0.1; env QA_HOST",
)
@click.option(
    "--port",
    default=lambda: settings.Settings.from_env().port,
    show_default="8000; env QA_PORT",
    type=click.IntRange(1, 65535),
)
def serve(host: str, port: int) -> None:
    """Run the web app with Flask's development server (production: gunicorn, see README)."""
    from qa.service.app import StartupError, create_app

    try:
        app = create_app()
    except StartupError as exc:
        raise click.ClickException(str(exc)) from exc
    app.run(host=host, port=port)


@main.command()
@click.option(
    "--sizes",
    default="10000,100000,1000000",
    show_default=True,
    help="Corpus sizes in sentences, comma-separated.",
)
@click.option("--questions", default=300, show_default=True, type=click.IntRange(1))
@click.option(
    "--okapi-questions",
    default=30,
    show_default=True,
    type=click.IntRange(1),
    help="Questions for rank-bm25 above 100,000 sentences (about a second each at a million).",
)
@click.option(
    "--work",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for generated corpora and their indexes, kept for reuse [default: a temp dir].",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("bench/RESULTS.md"),
    show_default=True,
)
@click.option(
    "--http-seconds",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Length of each wrk run; 0 skips the HTTP part.",
)
@click.option("--connections", default=8, show_default=True, type=click.IntRange(1))
@click.option(
    "--builds",
    default=3,
    show_default=True,
    type=click.IntRange(1),
    help="Builds of each size; the median is reported.",
)
@click.option(
    "--shards",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="Also serve each size from an index of this many shards, beside one shard.",
)
@click.option(
    "--ray",
    is_flag=True,
    help="With --shards, also serve the shards from Ray actors on a local cluster of that many "
    "nodes on 127.0.0.1 (needs the cluster extra).",
)
def bench(
    sizes: str,
    questions: int,
    okapi_questions: int,
    work: Path | None,
    out: Path,
    http_seconds: float,
    connections: int,
    builds: int,
    shards: int,
    ray: bool,
) -> None:
    """Measure build, load, memory and latency by corpus size, and HTTP throughput.

    Each size is a generated corpus, kept in --work for the next run; the 1,000,000-sentence
    size takes several minutes. The HTTP part runs gunicorn from gunicorn.conf.py and needs
    wrk (Debian: `apt-get install wrk`); without it, it is skipped and the report says so.
    """
    from qa.tools import bench as benchmark

    try:
        counts = [int(size) for size in sizes.split(",")]
    except ValueError as exc:
        raise click.BadParameter("comma-separated whole numbers", param_hint="--sizes") from exc
    ray = ray and shards > 1  # Ray serves shards: there are none to serve without --shards
    command = (
        (
            f"qa bench --sizes {sizes} --questions {questions} --okapi-questions {okapi_questions} "
            f"--http-seconds {http_seconds:g} --connections {connections} --builds {builds}"
        )
        + (f" --shards {shards}" if shards > 1 else "")
        + (" --ray" if ray else "")
    )
    benchmark.run(
        counts,
        questions,
        okapi_questions,
        work or benchmark.DEFAULT_WORK,
        out,
        http_seconds,
        connections,
        command,
        builds,
        log=lambda line: click.echo(line, err=True),
        shards=shards,
        ray=ray,
    )
    click.echo(f"Results written to {out}")


@main.command("eval")
@click.argument("questions", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--split",
    type=click.Choice(["all", "even", "odd"]),
    default="all",
    show_default=True,
    help="SQuAD files: ask only the questions of the even- or odd-numbered articles.",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["txt", "html", "docx", "pdf"]),
    default="txt",
    show_default=True,
    help="SQuAD files: write the articles as files of this type (one per article) to index.",
)
@click.option("--failures", default=0, type=click.IntRange(0), help="List the N worst misses.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--semantic",
    is_flag=True,
    help="Also answer with the semantic stage (needs the semantic extra), as one more system.",
)
@corpus_option
@index_option
def eval_command(
    questions: Path,
    split: str,
    file_format: str,
    failures: int,
    as_json: bool,
    semantic: bool,
    corpus: Path | None,
    index_dir: Path | None,
) -> None:
    """Measure answer quality on QUESTIONS (JSON Lines, or a SQuAD v1.1 .json file).

    Every question is asked as the service asks it; rank-bm25's BM25Okapi over the same
    passages with whitespace tokens answers it too, as the baseline.
    """
    from qa.tools import evaluate

    if evaluate.is_squad(questions):
        given = click.get_current_context().get_parameter_source
        if ParameterSource.COMMANDLINE in (given("corpus"), given("index_dir")):
            raise click.UsageError("a SQuAD file brings its own corpus: drop --corpus and --index")
        corpus = index_dir = None
    elif file_format != "txt":
        raise click.UsageError("--format is for SQuAD files, which bring their own corpus")
    from qa.semantic.encoder import Unavailable

    try:
        evaluation = evaluate.evaluate(
            questions,
            corpus,
            index_dir,
            split,
            progress=lambda line: click.echo(line, err=True),
            format=file_format,
            semantic=semantic,
        )
    except Unavailable as exc:
        raise click.ClickException(str(exc)) from exc
    except (ValueError, KeyError) as exc:
        raise click.ClickException(f"cannot read {questions}: {exc}") from exc
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from exc
    results = evaluation.results()
    worst = evaluate.worst(evaluation.runs[0], failures)
    if as_json:
        report = {
            "questions": evaluation.source,
            "corpus": evaluation.corpus,
            "passages": evaluation.passages,
            "vector_seconds": evaluation.vector_seconds,
            "vector_bytes": evaluation.vector_bytes,
            "results": results,
            "answer_spans": evaluation.spans(),
            "failures": [evaluate.failure(o) for o in worst],
        }
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(f"{evaluation.source} over {evaluation.corpus} ({evaluation.passages} passages)\n")
    click.echo(evaluate.table(results))
    click.echo("\n" + evaluate.gains(results))
    if evaluation.vector_seconds is not None:
        click.echo("\n" + evaluate.vector_cost(evaluation))
    click.echo("\n" + evaluate.span_table(evaluation.spans()))
    for outcome in worst:
        click.echo("\n" + evaluate.describe(outcome))


if __name__ == "__main__":
    main()
