// Marks the question's matched words in a sentence. The engine reports analyzed (stemmed)
// terms such as "recaptur"; a word matches when, once lower-cased and stripped of accents, it
// is the term followed only by English inflection and derivation endings ("recaptured",
// "sources", "Kwayres"), so "air" marks "air" but not "airport". The stemmer's rewrites are
// undone too: a final "i" stands for "y" ("citi": "city"), a final consonant may double
// ("begin": "beginning"), a final "e" may drop ("fire": "firing"). Terms of one or two letters
// take only plain inflections ("go": "going", not "gone" or "goal").

import { h } from "./dom.js";

// Like the engine's tokenizer: figures keep their separators ("4,000"), words their inner
// apostrophes ("Sha'arani"); hyphens split words.
const WORD = /\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|[\p{L}\p{N}_]+(?:['’ʼ][\p{L}\p{N}_]+)*/gu;
const ENDINGS =
  /^(?:e|y|s|d|li|es|ed|ing|ly|er|or|al|ic|it|iv|ion|ive|ment|ness|ful|ous|ism|ist|ity|abl|abil|able|ibl|ibil|ible|ant|anc|ance|enc|ence|ent|at|ate|iz|ize|is|ise|ies|ied|ship)*$/u;
const SHORT_ENDINGS = /^(?:s|es|ing|ed)?$/u;
const SUFFIX_START = /^(?:ing|ed|er|at|abl|ibl|ion)/u;

function endsWell(rest) {
  return rest.length <= 10 && ENDINGS.test(rest);
}

function suffixes(rest) {
  return SUFFIX_START.test(rest) && endsWell(rest);
}

/** The ways a word may begin when the stemmer shortened it to `term`, each with its endings. */
function stems(term) {
  const base = term.slice(0, -1);
  const last = term.at(-1);
  if (term.length === 1) return [[term, (rest) => rest === ""]];
  if (term.length === 2) return [[term, (rest) => SHORT_ENDINGS.test(rest)], [term + last, suffixes]];
  const forms = [[term, endsWell]];
  if (last === "i") forms.push([`${base}y`, endsWell]);
  if (last === "e") forms.push([base, suffixes]);
  if (last === "l") forms.push([`${term}l`, endsWell]);
  else if (/[bdfgmnprt]/u.test(last)) forms.push([term + last, suffixes]);
  if (term.endsWith("bl")) forms.push([`${base}il`, endsWell]);
  return forms;
}

/** Lower-cases and removes accents: "Ḥasakah" -> "hasakah". */
export function fold(text) {
  return text.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase().replace(/ς/gu, "σ");
}

/** Whether a word matches one of the analyzed terms. */
export function wordMatches(word, terms) {
  const folded = fold(word).replace(/[,'’ʼ]/gu, "");
  return terms.some((term) => {
    if (!term) return false;
    return stems(term).some(([start, ok]) => folded.startsWith(start) && ok(folded.slice(start.length)));
  });
}

/** Normalises the engine's terms once: folded, unique, non-empty. */
export function prepareTerms(terms) {
  return [...new Set((terms ?? []).map((t) => fold(String(t)).trim()).filter(Boolean))];
}

/** Where `span` lies in `text`: at its own offsets when they hold its text, else where it occurs. */
export function spanRange(text, span) {
  if (!span?.text) return null;
  const { start, end } = span;
  if (Number.isInteger(start) && text.slice(start, end) === span.text) return [start, end];
  const at = text.indexOf(span.text);
  return at < 0 ? null : [at, at + span.text.length];
}

/**
 * Splits `text` into text nodes and <mark> elements around matched words, and wraps the answer
 * `span` (if given and found) in <mark class="answer-span">. Returns an array of nodes, never HTML.
 */
export function highlight(text, terms, span = null) {
  const range = spanRange(text, span);
  if (range) {
    const [start, end] = range;
    return [
      ...highlight(text.slice(0, start), terms),
      h("mark", { class: "answer-span" }, highlight(text.slice(start, end), terms)),
      ...highlight(text.slice(end), terms),
    ];
  }
  const prepared = prepareTerms(terms);
  if (!prepared.length) return [document.createTextNode(text)];
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(WORD)) {
    if (!wordMatches(match[0], prepared)) continue;
    if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
    nodes.push(h("mark", { class: "term" }, match[0]));
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
}
