"""Irregular word forms mapped to their lemma before stemming: `drove` -> `drive`, `fled` ->
`flee`, `children` -> `child`.

Snowball stems regular inflections to one stem (`killed`, `killing` -> `kill`) but leaves the
irregular ones as they are, so a question that says `flee` misses a sentence that says `fled`.
LemmInflect's dictionary (shipped inside its package, nothing downloaded) knows each English
word's lemmas by part of speech. A token is replaced by a lemma only when it is an irregular form
of it: an irregular past form of a verb (`drove`, `left`, `rose`, though each is also a word of its
own: measured on SQuAD, reading them as verbs helps more than it hurts), or a form that is not
its own lemma under any part of speech (`children`, `men`); never a regular inflection (`added` is
`add` + `ed` and is left to the stemmer, which stems it as it always has). `saw` stays `saw`:
LemmInflect lists it as a verb's lemma too. Names and words the dictionary lacks are left as
they are.
"""

from __future__ import annotations

from lemminflect import getAllLemmas

# Parts of speech whose lemmas are taken, in order of preference.
PARTS = ("VERB", "NOUN", "ADJ", "ADV")
# Regular English suffixes, and those that drop a final e of the lemma (`drive` -> `driving`).
SUFFIXES = ("s", "es", "d", "ed", "ing", "er", "est")
VOWEL_SUFFIXES = ("es", "ed", "ing", "er", "est")
MODE = "verb"


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


def lemma(token: str) -> str:
    """The token's lemma when the token is an irregular form of it, else the token."""
    if not token.isalpha() or not token.isascii():
        return token
    found = getAllLemmas(token)
    if not found:
        return token
    # A verb's past forms first: `drove` is far more often `drive` than a herd.
    verbs = found.get("VERB", ())
    if verbs and token not in verbs:
        return token if token in regular_forms(verbs[0]) else verbs[0]
    if any(token in lemmas for lemmas in found.values()):
        return token
    chosen = next(found[part][0] for part in (*PARTS, *found) if part in found)
    return token if token in regular_forms(chosen) else chosen
