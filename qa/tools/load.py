"""Load on a served qa: requests to send, client threads sending them, and what each came to.

The soak (bench/soak.py) and the tests that load real gunicorn share these.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from qa.settings import MAX_HISTORY, MAX_QUESTION

REQUEST_TIMEOUT = 10.0


@dataclass(frozen=True)
class Ask:
    """One request of the mix: its kind (for the report), method, path and JSON body."""

    kind: str
    method: str
    path: str
    body: Any = None

    def payload(self, rnd: random.Random) -> bytes | None:
        return None if self.body is None else json.dumps(self.body).encode()


@dataclass(frozen=True)
class NovelAsk(Ask):
    """A maximal question and history of words never seen before, new at every request."""

    def payload(self, rnd: random.Random) -> bytes | None:
        turns = [novel_text(rnd) for _ in range(MAX_HISTORY + 1)]
        return json.dumps({"question": turns[0], "history": turns[1:]}).encode()


def novel_text(rnd: random.Random, size: int = MAX_QUESTION) -> str:
    """Made-up lowercase words (eight letters: 26**8 of them) filling `size` characters."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rnd.choices(letters, k=8)) for _ in range(size // 9)]
    return " ".join(words)


def post(kind: str, question: str, **fields: Any) -> Ask:
    return Ask(kind, "POST", "/api/ask", {"question": question, **fields})


def get(question: str, rnd: random.Random) -> Ask:
    return Ask("get", "GET", f"/api/ask?q={quote(question)}&k={rnd.randint(1, 10)}")


@dataclass
class Outcome:
    """What one request came to: error is None for a well-formed 200 answer."""

    kind: str
    start: float
    end: float
    status: int | None
    error: str | None


class Load:
    """Client threads sending asks in a loop until stopped, out of time, or at `limit` requests."""

    def __init__(
        self,
        base_url: str,
        asks: Sequence[Ask],
        clients: int,
        seconds: float,
        limit: int,
        seed: int = 0,
    ) -> None:
        address = urlsplit(base_url)
        self.host, self.port = address.hostname, address.port
        self.asks, self.clients, self.seconds, self.limit = asks, clients, seconds, limit
        self.seed = seed
        self.outcomes: list[Outcome] = []  # list.append is atomic: the threads share it
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> Load:
        deadline = time.monotonic() + self.seconds
        self._threads = [
            threading.Thread(target=self._client, args=(i, deadline), daemon=True)
            for i in range(self.clients)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> list[Outcome]:
        self._stop.set()
        return self.join()

    def join(self) -> list[Outcome]:
        for thread in self._threads:
            thread.join(self.seconds + REQUEST_TIMEOUT + 5)
        return self.outcomes

    def _client(self, number: int, deadline: float) -> None:
        rnd = random.Random(self.seed * 1000 + number)
        while (
            not self._stop.is_set()
            and time.monotonic() < deadline
            and len(self.outcomes) < self.limit
        ):
            self.outcomes.append(self.send(rnd.choice(self.asks), rnd))

    def send(self, ask: Ask, rnd: random.Random) -> Outcome:
        """Sends one ask on a new connection (gunicorn's sync workers close each one)."""
        body = ask.payload(rnd)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        start = time.monotonic()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request(ask.method, ask.path, body=body, headers=headers)
            response = connection.getresponse()
            status, data = response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            return Outcome(ask.kind, start, time.monotonic(), None, f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()
        return Outcome(ask.kind, start, time.monotonic(), status, answer_problem(status, data))


def answer_problem(status: int, data: bytes) -> str | None:
    """What is wrong with a response to a valid question, or None for a good answer object."""
    try:
        body = json.loads(data)
    except ValueError:
        return f"{status}: not JSON: {data[:200]!r}"
    if status != 200:
        return f"{status}: {json.dumps(body)[:200]}"
    if not {"answer", "abstained", "citations", "query"} <= set(body):
        return f"200 without the answer's fields: {sorted(body)}"
    return None
