"""What a question asks, read once for the query, the ranker and the spans, and the patterns that
find the kinds of answer it asks for in a sentence.

The ranker and the spans read a question differently: the ranker's question words are features
of the model fitted in qa/data/ranker.json (other words would need a new fit), while the spans'
kinds say which finder to run. So the two classifiers stay side by side, rather than merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The ranker's question words; the first pattern that matches decides.
QUESTION_WORDS = (
    ("how many", re.compile(r"\bhow\s+(?:many|much)\b", re.I)),
    ("when", re.compile(r"\bwhen\b|\bwhat\s+(?:year|day|month|date|time|century|decade)\b", re.I)),
    ("who", re.compile(r"\bwho(?:m|se)?\b", re.I)),
    ("where", re.compile(r"\bwhere\b", re.I)),
    ("why", re.compile(r"\bwhy\b", re.I)),
    ("how", re.compile(r"\bhow\b", re.I)),
    ("which", re.compile(r"\bwhich\b", re.I)),
    ("what", re.compile(r"\bwhat\b", re.I)),
)
# The kinds of answer span a question asks for; the first pattern that matches decides.
ASKED_KINDS = (
    ("date", re.compile(r"\b(?:when|what\s+(?:year|date|day|month|decade|century|time))\b", re.I)),
    (
        "quantity",
        re.compile(
            r"\bhow\s+(?:many|much|long|far|old|large|big|tall|high|often)\b"
            r"|\bwhat\s+(?:percentage|percent|number|amount|proportion)\b",
            re.I,
        ),
    ),
    ("place", re.compile(r"\bwhere\b|\bin\s+what\s+(?:city|country|town|place|region)\b", re.I)),
    ("name", re.compile(r"\b(?:who|whom|whose|which)\b", re.I)),
)
# The noun a question asks about: `how many sides`, `which checkpoint`.
HEAD_NOUN = re.compile(r"\b(?:how\s+(?:many|much)|which)\s+(\w+)", re.I)
# "How many", "what kind of" and "what happened" say what kind of answer is wanted, not what it
# is about; their words would otherwise count as rare content terms.
QUESTION_FORMS = re.compile(
    r"\bhow\s+(?:many|much)\b|\bwhat\s+(?:happened|happens|happen)\b"
    r"|\b(?:what|which)\s+(?:kinds?|types?|sorts?)\s+of\b",
    re.I,
)

# The ranker's tests, run on every candidate sentence: they only need to say whether a sentence
# mentions a date (any year, month name or `century` will do), which numbers and which
# capitalized words it has, so they are kept cheap. The span finders below must instead match
# the whole expression a span quotes (`3–5 March 1921`, `4,000 km²`, `Islamic State of Iraq`),
# which costs more and matches other text: the two date patterns (and the two number and two
# name patterns) differ on purpose, and merging them would change the ranker's fitted features.
HAS_DATE = re.compile(
    r"\b(?:1\d{3}|20\d{2})s?\b|\b(?:January|February|March|April|May|June|July|August|September"
    r"|October|November|December|century|centuries|decade|BC|AD)\b"
)
NUMBER_TOKEN = re.compile(
    r"\b(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty"
    r"|forty|fifty|hundred|thousand|million|billion|dozen|several|half)\b",
    re.I,
)
# A capitalized word: `\b[A-Z][\w-]+`, written to begin with its capital so that the regular
# expression engine skips ahead to capitals (twice as fast); the look-behind is the `\b`.
NAME_WORD = re.compile(r"[A-Z](?<!\w[A-Z])[\w-]+")

# The span finders' parts.
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_YEAR = r"(?:1[0-9]{3}|20[0-9]{2})(?:s)?"
_DAY = r"[0-3]?[0-9](?:st|nd|rd|th)?"
_DASH = r"\s*[-–—]\s*"
_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    r"eighty|ninety|hundred|dozens?|hundreds|thousands|millions?|billions?)"
)
_NUMBER = r"(?:[$€£]\s?)?\d[\d,]*(?:\.\d+)?\+?(?:\s*%)?"
DATE_SPAN = re.compile(
    rf"\b(?:{_DAY}(?:{_DASH}{_DAY})?\s+{_MONTH}(?:{_DASH}{_DAY}\s+{_MONTH})?(?:,?\s+{_YEAR})?"
    rf"|{_MONTH}\s+{_DAY}(?:,\s*{_YEAR})?"
    rf"|{_MONTH}(?:{_DASH}{_MONTH})?\s+{_YEAR}"
    rf"|(?:early|mid|late)[- ]{_YEAR}"
    rf"|{_YEAR}(?:{_DASH}(?:{_YEAR}|[0-9]{{2}}))?"
    rf"|(?:the\s+)?[0-9]{{1,2}}(?:st|nd|rd|th)\s+century)\b"
)
# A number and the one or two words that say what it counts (`4,000 km²`, `50 soldiers`).
QUANTITY_SPAN = re.compile(
    rf"(?:\b|(?=[$€£])){_NUMBER}(?:{_DASH}{_NUMBER})?(?:\s+(?:million|billion|thousand|hundred))?"
    rf"(?:[- ](?!and\b|of\b|in\b|on\b|at\b|to\b|the\b)[A-Za-z²³]+)?"
    rf"|\b{_NUMBER_WORDS}(?:[\s-]+{_NUMBER_WORDS})*(?:\s+(?!and\b|of\b|the\b)[a-z]+)?\b",
    re.IGNORECASE,
)
# A capitalised name, possibly joined by short lower-case words (`Islamic State of Iraq`).
NAME_SPAN = re.compile(
    r"\b(?:[A-Z][\w'’.-]*|al-[A-Z][\w'’-]*)(?:\s+(?:(?:of|the|and|de|al|for|on)\s+)*"
    r"(?:[A-Z][\w'’.-]*|al-[A-Z][\w'’-]*))*"
)
# The finder of each asked kind's spans: a place is found as a name is.
SPAN_FINDERS = {"date": DATE_SPAN, "quantity": QUANTITY_SPAN, "place": NAME_SPAN, "name": NAME_SPAN}


@dataclass(frozen=True)
class Question:
    """A question's text and what it asks, as `analyse` reads it."""

    text: str
    word: str  # the ranker's question word: `how many`, `when`, ... or `other`
    kind: str | None  # the kind of span asked for: date, quantity, place, name, or None
    head: str | None  # the noun asked about, as written: `sides` in `how many sides`
    content: str  # the text without its question forms: the words of what it is about


def analyse(question: str | Question) -> Question:
    """The question read once, for every reader; one already read is returned as it is."""
    if isinstance(question, Question):
        return question
    head = HEAD_NOUN.search(question)
    return Question(
        question,
        question_word(question),
        asked_kind(question),
        head.group(1) if head else None,
        QUESTION_FORMS.sub(" ", question),
    )


def question_word(question: str) -> str:
    """The kind of answer asked for: `when`, `who`, `how many`, ... or `other`."""
    return next((name for name, pattern in QUESTION_WORDS if pattern.search(question)), "other")


def asked_kind(question: str) -> str | None:
    """What kind of answer the question wants: date, quantity, place or name; None otherwise."""
    for kind, pattern in ASKED_KINDS:
        if pattern.search(question):
            return kind
    return None
