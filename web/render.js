// Builds the conversation's DOM: questions, pending answers, answers with their source cards.
// Every piece of corpus or user text goes in through text nodes (see dom.js).

import { h, icon, ICONS } from "./dom.js";
import { highlight } from "./highlight.js";

const MARKER = /\[(\d{1,2})\]/g;

export const cardId = (turnId, n) => `${turnId}-source-${n}`;

/** The numbers of the citations the answer's text refers to, in order. */
function referenced(response) {
  const numbers = new Set([...response.answer.matchAll(MARKER)].map((m) => Number(m[1])));
  const quoted = response.citations.filter((c) => numbers.has(c.n));
  return quoted.length ? quoted : response.citations;
}

/** The answer's text with its "[n]" markers turned into links to the source cards. */
function answerText(turnId, response) {
  const byNumber = new Map(response.citations.map((c) => [c.n, c]));
  const paragraph = h("p", { class: "answer-text" });
  let last = 0;
  for (const match of response.answer.matchAll(MARKER)) {
    const citation = byNumber.get(Number(match[1]));
    if (!citation) continue;
    paragraph.append(response.answer.slice(last, match.index));
    paragraph.append(
      h(
        "a",
        {
          class: "marker",
          href: `#${cardId(turnId, citation.n)}`,
          "data-cite": citation.n,
          "aria-label": `Source ${citation.n}: ${citation.document.title}`,
        },
        String(citation.n),
      ),
    );
    last = match.index + match[0].length;
  }
  paragraph.append(response.answer.slice(last));
  return paragraph;
}

/** One source card: where the sentence comes from, the sentence, and its neighbours. */
function sourceCard(turnId, citation) {
  const terms = citation.matched_terms ?? [];
  const before = citation.context?.before;
  const after = citation.context?.after;
  return h(
    "li",
    { class: "source", id: cardId(turnId, citation.n), tabindex: "-1" },
    h(
      "div",
      { class: "source-head" },
      h("span", { class: "source-n", "aria-hidden": "true" }, String(citation.n)),
      h(
        "p",
        { class: "source-where" },
        h("span", { class: "source-title" }, citation.document.title),
        citation.section ? h("span", { class: "source-section" }, citation.section) : null,
      ),
    ),
    h(
      "blockquote",
      { class: citation.kind === "prose" || !citation.kind ? "source-quote" : "source-quote is-lines" },
      before ? h("span", { class: "context" }, before, " ") : null,
      h("span", { class: "cited" }, highlight(citation.text, terms)),
      after ? h("span", { class: "context" }, " ", after) : null,
    ),
    h(
      "button",
      { type: "button", class: "source-open", "data-cite": citation.n },
      h("span", { class: "sr-only" }, `Source ${citation.n}: `),
      "Show in document",
      icon(...ICONS.arrow),
    ),
  );
}

function historyNote(response) {
  if (!response.query?.from_history?.length) return null;
  return h(
    "p",
    { class: "answer-note" },
    icon(...ICONS.history),
    "Read as a follow-up to your earlier question.",
  );
}

function actions() {
  return h(
    "div",
    { class: "answer-actions" },
    h(
      "button",
      { type: "button", class: "btn btn-quiet btn-small copy", "data-action": "copy" },
      icon(...ICONS.copy),
      h("span", { class: "copy-label" }, "Copy answer"),
    ),
  );
}

function abstainedAnswer(response) {
  return h(
    "div",
    { class: "answer abstained" },
    h("p", { class: "abstain-title" }, icon(...ICONS.search), "Not found in the documents"),
    h("p", { class: "answer-text" }, response.answer),
    h(
      "p",
      { class: "answer-hint" },
      "Try other words, or ask about something the loaded documents cover.",
    ),
  );
}

/** Passages the engine also found but the answer does not quote, folded away. */
function morePassages(turnId, others) {
  if (!others.length) return null;
  const label = others.length === 1 ? "1 more related passage" : `${others.length} more related passages`;
  return h(
    "details",
    { class: "more" },
    h("summary", {}, label),
    h("ol", { class: "sources" }, others.map((c) => sourceCard(turnId, c))),
  );
}

function citedAnswer(turnId, response) {
  const headingId = `${turnId}-sources`;
  const quoted = referenced(response);
  const others = response.citations.filter((c) => !quoted.includes(c));
  return h(
    "div",
    { class: "answer" },
    answerText(turnId, response),
    historyNote(response),
    h("h3", { class: "sources-heading", id: headingId }, quoted.length === 1 ? "Source" : "Sources"),
    h("ol", { class: "sources", "aria-labelledby": headingId }, quoted.map((c) => sourceCard(turnId, c))),
    morePassages(turnId, others),
  );
}

function userMessage(turn, titles) {
  const scope = turn.documents?.length ? titles.get(turn.documents[0]) ?? turn.documents[0] : null;
  return h(
    "div",
    { class: "msg msg-user" },
    h("h3", { class: "sr-only" }, "You asked"),
    h("p", { class: "msg-text" }, turn.question),
    scope ? h("p", { class: "msg-scope" }, icon(...ICONS.doc), `Only in ${scope}`) : null,
  );
}

/** A full turn: the question and its answer (or a pending placeholder when response is null). */
export function turnElement(turn, titles) {
  const item = h("li", { class: "turn", id: turn.id, "data-turn": turn.id });
  item.append(userMessage(turn, titles));
  item.append(turn.response ? answerMessage(turn) : pendingMessage());
  return item;
}

export function answerMessage(turn) {
  const { response } = turn;
  const abstained = response.abstained || !response.citations?.length;
  return h(
    "article",
    { class: "msg msg-answer", "aria-label": "Answer" },
    abstained ? abstainedAnswer(response) : citedAnswer(turn.id, response),
    actions(),
  );
}

export function pendingMessage() {
  return h(
    "div",
    { class: "msg msg-answer pending", "aria-busy": "true" },
    h("span", { class: "dots", "aria-hidden": "true" }, h("span"), h("span"), h("span")),
    h("span", { class: "pending-text" }, "Searching the documents…"),
  );
}

/** The answer and its sources as plain text, for the clipboard. */
export function plainText(turn) {
  const { question, response } = turn;
  const lines = [`Q: ${question}`, "", response.answer];
  if (response.citations?.length) {
    lines.push("", "Sources:");
    for (const c of referenced(response)) {
      const where = c.section ? `${c.document.title}, ${c.section}` : c.document.title;
      lines.push(`[${c.n}] ${where}: "${c.text}"`);
    }
  }
  return lines.join("\n");
}

/** What a screen reader hears when an answer arrives. */
export function announcement(turn) {
  const { response } = turn;
  if (response.abstained || !response.citations?.length) {
    return `Not found in the documents. ${response.answer}`;
  }
  const count = referenced(response).length;
  const spoken = response.answer.replace(MARKER, "");
  return `Answer: ${spoken} ${count} ${count === 1 ? "source" : "sources"} below.`;
}

export function suggestionButton(text) {
  return h("li", {}, h("button", { type: "button", class: "suggestion", "data-suggestion": text }, text));
}

export function libraryItem(doc) {
  const count = doc.passages === 1 ? "1 passage" : `${doc.passages} passages`;
  const sections = doc.sections?.length ? `, ${doc.sections.length} sections` : "";
  return h(
    "li",
    {},
    h(
      "button",
      { type: "button", class: "library-doc", "data-document": doc.id },
      icon(...ICONS.doc),
      h("span", { class: "library-title" }, doc.title),
      h("span", { class: "library-meta" }, `${count}${sections}`),
    ),
  );
}
