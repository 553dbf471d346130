"""Persistence: the index is reused while the corpus is unchanged, rebuilt otherwise."""

import json

import pytest

from qa.answer.engine import Engine
from qa.answer.model import as_json
from qa.index import segments, store
from qa.index.store import MANIFEST
from qa.text import spelling
from tests.helpers import QUESTION, manifest_stamp


def test_saved_index_is_reused(corpus, tmp_path):
    index = tmp_path / "index"
    first = Engine.open(corpus, index)
    stamp = manifest_stamp(index)
    second = Engine.open(corpus, index)
    assert manifest_stamp(index) == stamp
    assert as_json(second.ask(QUESTION))["citations"] == as_json(first.ask(QUESTION))["citations"]


def test_a_changed_file_triggers_a_rebuild(corpus, tmp_path):
    index = tmp_path / "index"
    Engine.open(corpus, index)
    stamp = manifest_stamp(index)
    (corpus / "extra.txt").write_text("= Extra =\n\nThe Zorblat fortress fell in 1999.\n", "utf-8")
    engine = Engine.open(corpus, index)
    assert manifest_stamp(index) != stamp
    assert (
        as_json(engine.ask("When did the Zorblat fortress fall?"))["citations"][0]["document"]["id"]
        == "extra"
    )


def test_an_edited_file_triggers_a_rebuild(corpus, tmp_path):
    index = tmp_path / "index"
    Engine.open(corpus, index)
    path = corpus / "al-hasakah-city-offensive.txt"
    path.write_text(
        path.read_text("utf-8").replace("Panorama checkpoint", "Quillbrook checkpoint"), "utf-8"
    )
    answer = as_json(Engine.open(corpus, index).ask(QUESTION))
    assert "Quillbrook" in answer["citations"][0]["text"]


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "garbage-manifest"])
def test_a_damaged_index_is_rebuilt_not_served(corpus, tmp_path, damage):
    index = tmp_path / "index"
    expected = as_json(Engine.open(corpus, index).ask(QUESTION))["citations"]
    version = store.current(index)
    files = sorted(p for p in version.iterdir() if p.name != MANIFEST)
    victim = max(files, key=lambda p: p.stat().st_size)
    if damage == "truncate":
        victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    elif damage == "flip":
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0xFF
        victim.write_bytes(bytes(data))
    elif damage == "delete":
        victim.unlink()
    else:
        (version / MANIFEST).write_text("{not json", "utf-8")
    engine = Engine.open(corpus, index)
    assert as_json(engine.ask(QUESTION))["citations"] == [
        {**c, "score": pytest.approx(c["score"])} for c in expected
    ]
    Engine.open(corpus, index)  # the rebuilt index is whole again and loads as saved


def test_an_index_of_another_format_is_rebuilt_not_served(corpus, tmp_path):
    index = tmp_path / "index"
    old = Engine.open(corpus, index).version_dir
    manifest = json.loads((old / MANIFEST).read_text("utf-8"))
    (old / MANIFEST).write_text(json.dumps({**manifest, "format": store.FORMAT - 1}), "utf-8")
    engine = Engine.open(corpus, index)
    assert engine.version_dir != old and store.current(index) == engine.version_dir
    assert as_json(engine.ask(QUESTION))["citations"]


def test_rebuild_flag_rebuilds(corpus, tmp_path):
    index = tmp_path / "index"
    Engine.open(corpus, index)
    stamp = manifest_stamp(index)
    Engine.open(corpus, index, rebuild=True)
    assert manifest_stamp(index) != stamp


def test_an_index_saved_before_versions_is_rebuilt_and_its_files_removed(corpus, tmp_path):
    index = tmp_path / "index"
    index.mkdir()
    for name in ("bm25-indptr.npy", "passages-text.npy", "corpus.json", MANIFEST):
        (index / name).write_text("{}", "utf-8")
    engine = Engine.open(corpus, index)
    assert sorted(p.name for p in index.iterdir()) == sorted(
        [store.POINTER, segments.FOLDER, engine.version_dir.name]
    )
    assert as_json(engine.ask(QUESTION))["citations"]


def test_the_lexicon_is_waited_for_only_once_postings_and_passages_are_written(corpus, tmp_path):
    """An update makes a large segment's lexicon in another process meanwhile."""
    built = Engine.open(corpus, tmp_path / "built")
    (part,) = built.saved_segments
    folder = tmp_path / "index"
    written_before = []

    def lexicon() -> spelling.Lexicon:
        staged = segments.folder_of(folder).glob(".staging-*/*")
        written_before.extend(p.name for p in staged)
        return part.lexicon

    name = segments.write(folder, part.postings, part.table, part.documents, lexicon)
    assert written_before and not any(n.startswith(spelling.PREFIX) for n in written_before)
    assert any(n.startswith("bm25-") for n in written_before)
    assert any(n.startswith("passages-") for n in written_before)
    loaded = segments.load(folder, name)
    assert loaded.size == part.size and len(loaded.documents) == len(part.documents)
    assert loaded.lexicon.spelling("hasakah") == part.lexicon.spelling("hasakah")
