"""`qa index` of text files starts quickly: it imports neither the answering code nor NLTK's
`__init__` (with SciPy's statistics) nor the readers of formats that are not there."""

import json
import subprocess
import sys
from pathlib import Path

from qa.common.alone import module_alone
from tests.documents import pdf_bytes

ROOT = Path(__file__).resolve().parents[1]

# What an update of text files must not wait for.
HEAVY = ["nltk", "scipy.stats", "docx", "pypdfium2", "selectolax", "numba", "qa.answer.engine"]

INDEX_AND_LIST_MODULES = """
import sys
from qa.cli import main
try:
    main(["index", "--corpus", sys.argv[1], "--index", sys.argv[2]])
except SystemExit as exc:
    assert not exc.code, exc.code
print(__import__("json").dumps(sorted(sys.modules)))
"""


def _modules_after_index(corpus: Path, index: Path) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", INDEX_AND_LIST_MODULES, str(corpus), str(index)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_qa_index_of_text_files_imports_nothing_it_does_not_need(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Aleppo was besieged. The siege ended in 2016.\n", "utf-8")
    for run in ("first build", "an update of one file"):
        modules = _modules_after_index(corpus, tmp_path / "index")
        assert "nltk.tokenize.punkt" not in modules, run  # its copy is private
        assert not [m for m in modules if m in HEAVY], run
        (corpus / "a.txt").write_text("Aleppo was besieged. Homs fell in 2014.\n", "utf-8")


def test_a_corpus_with_a_pdf_imports_the_pdf_reader_only_when_it_reads_one(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Aleppo was besieged.\n", "utf-8")
    (corpus / "b.pdf").write_bytes(pdf_bytes())
    modules = _modules_after_index(corpus, tmp_path / "index")
    assert "pypdfium2" in modules and "docx" not in modules
    (corpus / "a.txt").write_text("Homs fell in 2014.\n", "utf-8")
    assert "pypdfium2" not in _modules_after_index(corpus, tmp_path / "index")


def test_after_punkt_alone_nltk_still_imports_whole():
    code = """
import json, sys
from qa.ingest.sentences import split_sentences
text = "Dr. Smith came at 5 p.m. and left. U.S. forces stayed. Then? None."
ours = [s.text for s in split_sentences(text)]
alone = "nltk" in sys.modules
import nltk
whole = nltk.tokenize.punkt.PunktSentenceTokenizer().tokenize(text)
print(json.dumps([ours, whole, alone, "nltk.collocations" in sys.modules]))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    ours, whole, alone, collocations = json.loads(done.stdout)
    assert not alone and collocations  # NLTK's __init__ ran only when imported
    assert ours == ["Dr. Smith came at 5 p.m. and left.", "U.S. forces stayed.", "Then?", "None."]
    # NLTK's own Punkt (untrained, so splitting more) works beside qa's private copy.
    assert "".join(whole).replace(" ", "") == "".join(ours).replace(" ", "")


def test_module_alone_returns_a_module_imported_already():
    assert module_alone("qa.ingest.sentences") is sys.modules["qa.ingest.sentences"]
