"""How long an upload, and a removal, take: each write reads only its own files into a new segment.

    .venv/bin/python bench/uploads.py --rounds 5

Copies the corpus (the default one unless --corpus) to a temporary folder, indexes it, and
through the app (Flask's test client, so no network in the figure) uploads a small text file and
a three-page PDF, then removes one, `--rounds` times; prints the median, min and max of each.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.answer.engine import Engine  # noqa: E402
from qa.service.app import create_app  # noqa: E402
from qa.settings import DEFAULT_CORPUS  # noqa: E402
from tests.documents import pdf_bytes  # noqa: E402

KEY = {"Authorization": "Bearer bench-key"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp, "corpus")
        shutil.copytree(args.corpus, corpus)
        engine = Engine.open(corpus, Path(tmp, "index"))
        print(f"{len(engine.corpus.documents)} documents, {engine.index.size} passages")
        app = create_app(
            {
                "ENGINE": engine,
                "RATE_LIMIT": None,
                "RELOAD": "off",
                "API_KEY": KEY["Authorization"][7:],
            }
        )
        client = app.test_client()
        times: dict[str, list[float]] = {"upload .txt": [], "upload .pdf": [], "remove": []}
        for n in range(args.rounds):
            text = f"= Note {n} =\n\nThe ferry number {n} sailed at dawn.\n".encode()
            for kind, name, data in [
                ("upload .txt", f"note-{n}.txt", text),
                ("upload .pdf", f"report-{n}.pdf", pdf_bytes(title=f"Report {n}")),
            ]:
                started = time.perf_counter()
                response = client.post(
                    "/api/documents",
                    data={"file": (io.BytesIO(data), name)},
                    headers=KEY,
                    content_type="multipart/form-data",
                )
                times[kind].append(time.perf_counter() - started)
                assert response.status_code == 201, response.get_data(as_text=True)
                doc_id = response.get_json()["files"][0]["document"]["id"]
            started = time.perf_counter()
            assert client.delete(f"/api/documents/{doc_id}", headers=KEY).status_code == 200
            times["remove"].append(time.perf_counter() - started)
        for kind, seconds in times.items():
            print(
                f"{kind}: median {statistics.median(seconds):.2f} s "
                f"(min {min(seconds):.2f}, max {max(seconds):.2f}, {len(seconds)} runs)"
            )


if __name__ == "__main__":
    main()
