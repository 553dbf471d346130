"""The irregular forms a question's word shares a lemma with: `drive` also searches `drove` and
`driven`, `fled` also `flee`, `children` also `child`.

Snowball stems regular inflections to one stem (`killed`, `killing` -> `kill`) but leaves the
irregular ones as they are, so a question that says `flee` misses a sentence that says `fled`.
LemmInflect's dictionary (shipped inside its package, nothing downloaded) knows each English
word's lemmas and inflections by part of speech. A word is read as a lemma's irregular form when
it is an irregular past form of a verb (`drove`, `left`, `rose`, though each is also a word of
its own: measured on SQuAD, reading them as verbs helps more than it hurts), or a form that is
not its own lemma under any part of speech (`children`, `men`); never as a regular inflection
(`added` is `add` + `ed`, which the stemmer already joins to `add`). `saw` stays `saw`:
LemmInflect lists it as a verb's lemma too.

Only questions are expanded this way; passages are indexed as they always were, so the index
and the page's marking of matched words (by their stems, web/highlight.js) are unchanged: a
variant that matched is reported as the term it is, which the page marks in its own form.
"""

from __future__ import annotations

from functools import lru_cache

from lemminflect import getAllInflections, getAllLemmas

# Parts of speech whose lemmas are taken, in order of preference.
PARTS = ("VERB", "NOUN", "ADJ", "ADV")
# Regular English suffixes, and those that drop a final e of the lemma (`drive` -> `driving`).
SUFFIXES = ("s", "es", "d", "ed", "ing", "er", "est")
VOWEL_SUFFIXES = ("es", "ed", "ing", "er", "est")
# Words whose forms are remembered: questions repeat their words, and a lookup costs 10 µs.
REMEMBERED = 8192


def regular_forms(lemma: str) -> set[str]:
    """The regular inflections of a lemma: suffixed, with a final e dropped, y made i, or the
    last consonant doubled."""
    forms = {lemma + s for s in SUFFIXES}
    if lemma.endswith("e"):
        forms |= {lemma[:-1] + s for s in VOWEL_SUFFIXES}
    if lemma.endswith("y"):
        forms |= {lemma[:-1] + "i" + s for s in ("es", "ed", "er", "est")}
    forms |= {lemma + lemma[-1] + s for s in VOWEL_SUFFIXES}
    return forms


def reading(token: str) -> tuple[str, str] | None:
    """The token's lemma and its part of speech, None for a word the dictionary lacks.

    A verb's reading comes first: `drove` is far more often `drive` than a herd, `left` the past
    of `leave` than a side. Otherwise the token is read as its own lemma when it is one.
    """
    if not token.isalpha() or not token.isascii():
        return None
    found = getAllLemmas(token)
    if not found:
        return None
    verbs = found.get("VERB", ())
    if verbs:
        return (token if token in verbs else verbs[0]), "VERB"
    parts = [part for part in (*PARTS, *found) if part in found]
    own = next((part for part in parts if token in found[part]), None)
    return (token, own) if own else (found[parts[0]][0], parts[0])


def lemma(token: str) -> str:
    """The token's lemma when the token is an irregular form of it, else the token."""
    read = reading(token)
    if read is None or token in regular_forms(read[0]):
        return token
    return read[0]


@lru_cache(maxsize=REMEMBERED)
def irregular_family(token: str) -> tuple[str, ...]:
    """The other words that are the token's lemma or its irregular forms of the same part of
    speech (`drove`: `drive`, `driven`), in sorted order; none for a regular word."""
    read = reading(token)
    if read is None:
        return ()
    base, part = read
    regular = regular_forms(base)
    forms = {base}
    for inflections in getAllInflections(base, upos=part).values():
        forms.update(form for form in inflections if form not in regular and form.isalpha())
    forms.discard(token)
    return tuple(sorted(forms))
