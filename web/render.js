// Builds the conversation's DOM: questions, pending answers, answers with their source cards.
// Every piece of corpus or user text goes in through text nodes (see dom.js).

import { h, icon, ICONS } from "./dom.js";
import { highlight } from "./highlight.js";

const FOLLOW_UPS = ["Tell me more", "And before that?"];

export const cardId = (turnId, n) => `${turnId}-source-${n}`;

/** The first words of a passage, for a label. */
function excerpt(text) {
  const words = text.split(/\s+/u);
  return words.length > 9 ? `${words.slice(0, 8).join(" ")}…` : text;
}

/** A button that opens a passage of a document in the source viewer, its `terms` highlighted. */
function passageLink(passageId, documentId, label, terms = []) {
  const props = {
    type: "button",
    class: "link",
    "data-passage": passageId,
    "data-document": documentId,
    "data-terms": terms.join(" "),
  };
  return h("button", props, label);
}

/** The citations the answer quotes, in order (all of them if it names none). */
function referenced(response) {
  const quoted = response.citations.filter((c) => response.quoted.includes(c.n));
  return quoted.length ? quoted : response.citations;
}

/**
 * The quoted sentences, each followed by its marker linking to its source card, with the answer
 * span emphasised in its citation.
 */
function answerText(turnId, response) {
  const span = response.answer_span;
  const paragraph = h("p", { class: "answer-text" });
  referenced(response).forEach((citation, i) => {
    const spanned = span && span.citation === citation.n;
    paragraph.append(i ? " " : "", ...(spanned ? highlight(citation.text, [], span) : [citation.text]), " ");
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
  });
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
      h("span", { class: "cited" }, highlight(citation.text, terms, citation.answer_span)),
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

/** Notes on the question's spelling: what was searched instead, or a "Did you mean" button. */
function spellingNotes(turn) {
  const spelling = turn.response.query?.spelling ?? [];
  const applied = spelling.filter((s) => s.applied);
  const open = spelling.filter((s) => !s.applied);
  const said = applied.map((s, i) => [i ? "; " : "", h("strong", {}, s.suggested), ` — you wrote “${s.written}”`]);
  return [
    applied.length
      ? h("p", { class: "answer-note lead" }, icon(...ICONS.spell), h("span", {}, "Searched for ", said))
      : null,
    open.length
      ? h(
          "p",
          { class: "lead did-you-mean" },
          open.map((s) => {
            const question = substitute(turn.question, s);
            return h(
              "button",
              { type: "button", class: "btn btn-quiet btn-small", "data-ask": question, title: `Ask “${question}”` },
              icon(...ICONS.spell),
              h("span", {}, "Did you mean ", h("strong", {}, s.suggested), "?"),
            );
          }),
        )
      : null,
  ];
}

/** The question with the word as written replaced by the suggested spelling. */
function substitute(question, { written, suggested }) {
  const word = written.replace(/[.*+?^${}()|[\]\\]/gu, "\\$&");
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}_-])${word}(?![\\p{L}\\p{N}_-])`, "u");
  return question.replace(pattern, () => suggested);
}

/** The other names the corpus defines for a name in the question, which were searched too. */
function aliasNote(response, ctx) {
  const aliases = response.query?.aliases ?? [];
  if (!aliases.length) return null;
  const parts = aliases.map((alias, i) => {
    // Short forms first: "ISIL, IS, Islamic State of Iraq and the Levant".
    const names = alias.names.filter((n) => n !== alias.form).sort((a, b) => a.includes(" ") - b.includes(" "));
    const title = ctx.title(alias.document) ?? "the documents";
    const terms = [alias.form, ...names].filter((name) => !name.includes(" "));
    return [
      i ? "; " : "",
      names.join(", "),
      ` (for “${alias.form}”, defined in `,
      passageLink(alias.defined_in, alias.document, title, terms),
      ")",
    ];
  });
  return h("p", { class: "answer-note" }, icon(...ICONS.alias), h("span", {}, "Also searched as: ", parts));
}

/** Where a "Tell me more" (or "And before that?") answer goes on from. */
function continuationNote(response, ctx) {
  const step = response.query?.continues;
  if (!step?.passage_id) return null;
  const from = ctx.passage(step.passage_id);
  const label = from ? `“${excerpt(from.text)}”` : ctx.title(step.document) ?? "the last answer";
  return h(
    "p",
    { class: "answer-note lead" },
    icon(...ICONS.next),
    h(
      "span",
      {},
      step.direction < 0 ? "Going back from " : "Continuing from ",
      passageLink(step.passage_id, step.document, label, from?.matched_terms ?? []),
    ),
  );
}

function actions(cited) {
  return h(
    "div",
    { class: "answer-actions" },
    cited
      ? h(
          "div",
          { class: "follow-ups", role: "group", "aria-label": "Follow-up questions" },
          FOLLOW_UPS.map((text) => h("button", { type: "button", class: "chip", "data-ask": text }, text)),
        )
      : null,
    h(
      "button",
      { type: "button", class: "btn btn-quiet btn-small copy", "data-action": "copy" },
      icon(...ICONS.copy),
      h("span", { class: "copy-label" }, "Copy answer"),
    ),
  );
}

function abstainedAnswer(turn, ctx) {
  const { response } = turn;
  const continued = Boolean(response.query?.continues);
  return h(
    "div",
    { class: "answer abstained" },
    h(
      "p",
      { class: "abstain-title" },
      icon(...ICONS.search),
      continued ? "Nothing more to quote" : "Not found in the documents",
    ),
    continuationNote(response, ctx),
    h("p", { class: "answer-text" }, response.message ?? response.answer),
    spellingNotes(turn),
    h(
      "p",
      { class: "answer-hint" },
      continued ? "Ask a new question to go on." : "Try other words, or ask about something the loaded documents cover.",
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

function citedAnswer(turn, ctx) {
  const { id: turnId, response } = turn;
  const headingId = `${turnId}-sources`;
  const quoted = referenced(response);
  const others = response.citations.filter((c) => !quoted.includes(c));
  return h(
    "div",
    { class: "answer" },
    continuationNote(response, ctx),
    spellingNotes(turn),
    answerText(turnId, response),
    aliasNote(response, ctx),
    historyNote(response),
    h("h3", { class: "sources-heading", id: headingId }, quoted.length === 1 ? "Source" : "Sources"),
    h("ol", { class: "sources", "aria-labelledby": headingId }, quoted.map((c) => sourceCard(turnId, c))),
    morePassages(turnId, others),
  );
}

function userMessage(turn, ctx) {
  const collection = turn.collections?.[0];
  const scope = collection
    ? `the collection “${collection}”`
    : turn.documents?.length
      ? ctx.title(turn.documents[0]) ?? turn.documents[0]
      : null;
  return h(
    "div",
    { class: "msg msg-user" },
    h("h3", { class: "sr-only" }, "You asked"),
    h("p", { class: "msg-text" }, turn.question),
    scope ? h("p", { class: "msg-scope" }, icon(...ICONS.doc), `Only in ${scope}`) : null,
  );
}

/**
 * A full turn: the question and its answer (or a pending placeholder when response is null).
 * `ctx` looks things up: `title(documentId)` and `passage(passageId)`, a citation of any turn.
 */
export function turnElement(turn, ctx) {
  const item = h("li", { class: "turn", id: turn.id, "data-turn": turn.id });
  item.append(userMessage(turn, ctx));
  item.append(turn.response ? answerMessage(turn, ctx) : pendingMessage());
  return item;
}

export function answerMessage(turn, ctx) {
  const { response } = turn;
  const abstained = response.abstained || !response.citations?.length;
  return h(
    "article",
    { class: "msg msg-answer", "aria-label": "Answer" },
    abstained ? abstainedAnswer(turn, ctx) : citedAnswer(turn, ctx),
    actions(!abstained),
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
  const note = response.note ?? "";
  if (response.abstained || !response.citations?.length) {
    return `Not found in the documents. ${note}${response.message ?? response.answer}`;
  }
  const quoted = referenced(response);
  const spoken = quoted.map((c) => c.text).join(" ");
  return `Answer: ${note}${spoken} ${quoted.length} ${quoted.length === 1 ? "source" : "sources"} below.`;
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
