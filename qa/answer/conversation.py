"""Conversation moves that are not searches: "tell me more", "and before that?"."""

from __future__ import annotations

import re

FORWARD = re.compile(
    r"^\W*(?:(?:and|so|ok|okay)\W+)?(?:please\W+)?"
    r"(?:tell me more|more|go on|continue|keep going|what happened next|what happened then"
    r"|what happened after(?:wards| that)?|what came next|what came after(?: that)?|what next"
    r"|then what|and then|what else)\W*(?:please)?\W*$",
    re.IGNORECASE,
)
BACKWARD = re.compile(
    r"^\W*(?:(?:and|so|ok|okay)\W+)?"
    r"(?:before that|what happened before(?: that)?|what came before(?: that)?"
    r"|what happened earlier|earlier|and before)\W*$",
    re.IGNORECASE,
)
# How many following (or preceding) sentences a continuation cites.
STEP = 2


def direction(question: str) -> int:
    """+1 when the question asks to go on, -1 to go back, 0 when it is a question of its own."""
    if FORWARD.match(question):
        return 1
    if BACKWARD.match(question):
        return -1
    return 0


NOTHING_TO_CONTINUE = "There is no earlier answer to continue from; ask a question first."


def edge(title: str, step: int) -> str:
    where = "after" if step > 0 else "before"
    return f"There is nothing {where} that passage in \u201c{title}\u201d."
