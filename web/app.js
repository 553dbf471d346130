// The chat page: wires the composer, the conversation, suggestions and the source viewer.

import { ask, getSuggestions, listDocuments } from "./api.js";
import { append, clear, h } from "./dom.js";
import {
  announcement,
  answerMessage,
  cardId,
  libraryItem,
  plainText,
  suggestionButton,
  turnElement,
} from "./render.js";
import * as store from "./store.js";
import { initManage, openSettings, setCollections } from "./manage.js";
import { closeViewer, initViewer, isViewerOpen, openSource } from "./viewer.js";

const HISTORY_LIMIT = 8;
const COLLECTION = "collection:"; // a "Search in" value naming a collection, not a document
// A large corpus lists only its first documents; questions still search them all.
const LISTED_DOCUMENTS = 200;
const NEEDS_KEY = "This server needs a key to read its documents. Enter it in Settings.";
const REDUCED_MOTION = window.matchMedia("(prefers-reduced-motion: reduce)");

const $ = (id) => document.getElementById(id);
const els = {};
const state = { turns: [], scope: "", pending: null, titles: new Map(), suggestionsLoaded: false };

/* ---------- small helpers ---------- */

function announce(message) {
  els.announcer.textContent = "";
  setTimeout(() => {
    els.announcer.textContent = message;
  }, 50);
}

function scrollBehavior() {
  return REDUCED_MOTION.matches ? "auto" : "smooth";
}

function newId() {
  const random = Math.random().toString(36).slice(2, 8);
  return `t${Date.now().toString(36)}${random}`;
}

function findTurn(id) {
  return state.turns.find((turn) => turn.id === id);
}

/** What rendering looks up: document titles, and passages cited by earlier answers. */
const ctx = {
  title: (id) => state.titles.get(id),
  passage(id) {
    for (const turn of [...state.turns].reverse()) {
      const found = turn.response?.citations.find((c) => c.passage_id === id);
      if (found) return found;
    }
    return null;
  },
};

const list = (value) => (Array.isArray(value) ? value : []);

/** Fills in what a partial or older answer object may lack, so rendering never throws. */
function normalize(response) {
  const citations = list(response?.citations);
  const query = response?.query ?? {};
  return {
    ...response,
    answer: typeof response?.answer === "string" ? response.answer : "",
    message: typeof response?.message === "string" ? response.message : null,
    note: typeof response?.note === "string" ? response.note : null,
    quoted: list(response?.quoted).filter(Number.isInteger),
    anchor: response?.anchor?.document ? response.anchor : null,
    answer_span: response?.answer_span ?? null,
    query: {
      ...query,
      from_history: list(query.from_history),
      aliases: list(query.aliases).filter((a) => a?.defined_in && a.document && Array.isArray(a.names)),
      spelling: list(query.spelling).filter((s) => s?.written && s.suggested),
      continues: query.continues?.passage_id ? query.continues : null,
    },
    abstained: Boolean(response?.abstained) || citations.length === 0,
    citations: citations.map((c, i) => ({
      ...c,
      n: Number.isInteger(c.n) ? c.n : i + 1,
      text: String(c.text ?? ""),
      document: { id: String(c.document?.id ?? ""), title: String(c.document?.title ?? "Document") },
      matched_terms: list(c.matched_terms),
      answer_span: c.answer_span ?? null,
    })),
  };
}

/* ---------- notices (errors) ---------- */

function showNotice(message) {
  els.noticeText.textContent = message;
  els.notice.hidden = false;
}

function hideNotice() {
  els.notice.hidden = true;
  els.noticeText.textContent = "";
}

/* ---------- conversation ---------- */

function updateWelcome() {
  const empty = state.turns.length === 0 && !state.pending;
  els.welcome.hidden = !empty;
  els.newChat.disabled = empty;
  if (empty && !state.suggestionsLoaded) loadSuggestions();
}

function renderConversation() {
  clear(els.turns);
  for (const turn of state.turns) els.turns.append(turnElement(turn, ctx));
  if (state.pending) els.turns.append(state.pending.element);
  updateWelcome();
}

function scrollToBottom() {
  els.conversation.scrollTop = els.conversation.scrollHeight;
}

function setBusy(busy) {
  els.send.setAttribute("aria-disabled", String(busy));
  els.send.classList.toggle("is-busy", busy);
  els.sendLabel.textContent = busy ? "Asking…" : "Ask";
  els.conversation.setAttribute("aria-busy", String(busy));
}

function restoreQuestion(question) {
  if (els.question.value.trim()) return false;
  els.question.value = question;
  resizeQuestion();
  return true;
}

/** Asks the question in the box, or `asked` (a follow-up or "Did you mean" button's question). */
async function submit(asked = null) {
  const question = (asked ?? els.question.value).trim();
  if (!question || state.pending) return;
  hideNotice();
  const turn = {
    id: newId(),
    question,
    documents: state.scope && !state.scope.startsWith(COLLECTION) ? [state.scope] : null,
    collections: state.scope.startsWith(COLLECTION) ? [state.scope.slice(COLLECTION.length)] : null,
    response: null,
  };
  const history = state.turns.map((t) => t.question).slice(-HISTORY_LIMIT);
  const element = turnElement(turn, ctx);
  const controller = new AbortController();
  state.pending = { turn, element, controller };
  els.turns.append(element);
  if (asked === null) {
    els.question.value = "";
    resizeQuestion();
  }
  updateWelcome();
  setBusy(true);
  scrollToBottom();
  announce("Searching the documents…");
  try {
    // A "Tell me more" goes on from where the last answer stands in its document.
    const anchor = state.turns.at(-1)?.response?.anchor ?? null;
    const response = await ask({ question, history, anchor, documents: turn.documents, collections: turn.collections, signal: controller.signal });
    if (state.pending?.turn !== turn) return; // a new chat was started meanwhile
    turn.response = normalize(response);
    state.turns.push(turn);
    store.save(state);
    element.lastElementChild.replaceWith(answerMessage(turn, ctx));
    element.scrollIntoView({ block: "start", behavior: scrollBehavior() });
    // Asked from a follow-up button, which is gone now: focus the new answer's, so Enter goes on.
    if (document.activeElement === els.conversation) {
      (element.querySelector(".chip") ?? els.question).focus({ preventScroll: true });
    }
    announce(announcement(turn));
  } catch (error) {
    if (state.pending?.turn !== turn) return;
    element.remove();
    const restored = restoreQuestion(question);
    const kept = restored ? " Your question is still in the box." : "";
    showNotice(`${error.message || "Something went wrong."}${kept}`);
  } finally {
    if (state.pending?.turn === turn) {
      state.pending = null;
      setBusy(false);
      updateWelcome();
    }
  }
}

function newChat() {
  state.pending?.controller.abort();
  state.pending = null;
  setBusy(false);
  state.turns = [];
  store.save(state);
  closeViewer();
  hideNotice();
  renderConversation();
  els.question.focus();
  announce("New chat started.");
}

/* ---------- citations ---------- */

function citationFor(target) {
  const turnEl = target.closest("[data-turn]");
  const turn = turnEl && findTurn(turnEl.dataset.turn);
  const n = Number(target.closest("[data-cite]")?.dataset.cite);
  return turn?.response?.citations.find((c) => c.n === n) ?? null;
}

function flash(card) {
  if (!card) return;
  card.classList.remove("is-flashing");
  void card.offsetWidth; // restart the animation
  card.classList.add("is-flashing");
  card.scrollIntoView({ block: "nearest", behavior: scrollBehavior() });
}

function markActive(card) {
  for (const old of els.turns.querySelectorAll(".source.is-active")) old.classList.remove("is-active");
  card?.classList.add("is-active");
}

/** Opens the viewer on a citation; `from` (a marker or a card's button) gets focus back. */
function openCitation(citation, from) {
  const turnId = from.closest("[data-turn]").dataset.turn;
  markActive(document.getElementById(cardId(turnId, citation.n)));
  openSource({
    documentId: citation.document.id,
    title: citation.document.title,
    passageId: citation.passage_id,
    terms: citation.matched_terms,
    span: citation.answer_span,
    from,
  });
}

async function copyTurn(button) {
  const turn = findTurn(button.closest("[data-turn]")?.dataset.turn);
  if (!turn?.response) return;
  const text = plainText(turn);
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    ok = legacyCopy(text);
  }
  const label = button.querySelector(".copy-label");
  label.textContent = ok ? "Copied" : "Copy failed";
  button.classList.toggle("is-done", ok);
  announce(ok ? "Answer and sources copied." : "Could not copy. Select the text instead.");
  setTimeout(() => {
    label.textContent = "Copy answer";
    button.classList.remove("is-done");
  }, 2000);
}

function legacyCopy(text) {
  const area = h("textarea", { class: "sr-only", "aria-hidden": "true" });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

function onConversationClick(event) {
  const marker = event.target.closest("a.marker");
  if (marker) {
    event.preventDefault();
    const citation = citationFor(marker);
    flash(document.getElementById(marker.hash.slice(1)));
    if (citation) openCitation(citation, marker);
    return;
  }
  const copy = event.target.closest("[data-action=copy]");
  if (copy) return void copyTurn(copy);
  const again = event.target.closest("[data-ask]");
  if (again) {
    // A follow-up button goes when its answer stops being the last: keep focus in the chat.
    if (again.classList.contains("chip")) els.conversation.focus({ preventScroll: true });
    return void submit(again.dataset.ask);
  }
  const link = event.target.closest("[data-passage]");
  if (link) {
    const id = link.dataset.passage;
    const terms = link.dataset.terms.split(" ").filter(Boolean);
    const documentId = link.dataset.document;
    return void openSource({ documentId, title: ctx.title(documentId), passageId: id, terms, from: link });
  }
  const source = event.target.closest(".source");
  if (source) {
    const opener = event.target.closest(".source-open");
    if (!opener && String(window.getSelection()).trim()) return; // let people select text
    const citation = citationFor(source.querySelector(".source-open"));
    if (citation) openCitation(citation, source.querySelector(".source-open"));
  }
}

/* ---------- documents and suggestions ---------- */

async function loadDocuments() {
  try {
    const { documents, total } = await listDocuments(LISTED_DOCUMENTS);
    state.titles = new Map(documents.map((d) => [d.id, d.title]));
    const count = total.toLocaleString("en-US");
    els.docStatus.textContent = total === 1 ? "1 document loaded" : `${count} documents loaded`;
    els.docStatus.title = documents.map((d) => d.title).join("\n");
    clear(els.library).append(...documents.map(libraryItem));
    const more = total - documents.length;
    if (more > 0) els.library.append(h("li", { class: "muted" }, `and ${more.toLocaleString("en-US")} more`));
    fillScope(documents);
    if (els.noticeText.textContent === NEEDS_KEY) hideNotice();
    renderConversation(); // scope labels now have titles
  } catch (error) {
    if (error.status === 401) {
      showNotice(NEEDS_KEY);
      openSettings();
    }
    els.docStatus.textContent = "Documents unavailable";
    clear(els.library).append(h("li", { class: "muted" }, "The document list could not be loaded."));
  }
}

/** "Search in": all documents, those in no collection, then each collection and its documents. */
function fillScope(documents) {
  const groups = new Map();
  for (const doc of documents) {
    if (!groups.has(doc.collection ?? "")) groups.set(doc.collection ?? "", []);
    groups.get(doc.collection ?? "").push(h("option", { value: doc.id }, doc.title));
  }
  const names = [...groups.keys()].filter(Boolean).sort();
  append(clear(els.scope), [
    h("option", { value: "" }, "All documents"),
    groups.get("") ?? [],
    names.map((name) =>
      h("optgroup", { label: `Collection “${name}”` },
        h("option", { value: COLLECTION + name }, `All of “${name}”`), groups.get(name)),
    ),
  ]);
  setCollections(names);
  const known = [...els.scope.options].some((option) => option.value === state.scope);
  els.scope.value = known ? state.scope : "";
  state.scope = els.scope.value;
}

async function loadSuggestions() {
  state.suggestionsLoaded = true;
  try {
    const suggestions = await getSuggestions();
    clear(els.suggestions).append(...suggestions.map(suggestionButton));
    els.suggestions.closest(".welcome").classList.toggle("no-suggestions", suggestions.length === 0);
  } catch {
    state.suggestionsLoaded = false;
    clear(els.suggestions).append(h("li", { class: "muted" }, "Suggestions are unavailable right now."));
  }
}

/* ---------- composer ---------- */

function resizeQuestion() {
  if (CSS.supports("field-sizing", "content")) return;
  els.question.style.height = "auto";
  els.question.style.height = `${Math.min(els.question.scrollHeight, 200)}px`;
}

function onQuestionKey(event) {
  if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.altKey) return;
  event.preventDefault();
  submit();
}

function onGlobalKey(event) {
  if (event.key === "Escape" && isViewerOpen() && !document.querySelector("dialog[open]")) {
    event.preventDefault();
    closeViewer();
  }
}

function bind() {
  els.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  els.question.addEventListener("keydown", onQuestionKey);
  els.question.addEventListener("input", resizeQuestion);
  els.scope.addEventListener("change", () => {
    state.scope = els.scope.value;
    store.save(state);
  });
  els.newChat.addEventListener("click", newChat);
  els.noticeClose.addEventListener("click", () => {
    hideNotice();
    els.question.focus();
  });
  els.turns.addEventListener("click", onConversationClick);
  els.suggestions.addEventListener("click", (event) => {
    const button = event.target.closest("[data-suggestion]");
    if (!button) return;
    els.question.value = button.dataset.suggestion;
    submit();
  });
  els.library.addEventListener("click", (event) => {
    const button = event.target.closest("[data-document]");
    if (!button) return;
    const id = button.dataset.document;
    openSource({ documentId: id, title: state.titles.get(id), from: button });
  });
  document.addEventListener("keydown", onGlobalKey);
}

function init() {
  for (const id of [
    "conversation", "turns", "welcome", "suggestions", "library", "composer", "question", "scope",
    "send", "notice", "announcer",
  ]) {
    els[id] = $(id);
  }
  els.noticeText = $("notice-text");
  els.noticeClose = $("notice-close");
  els.newChat = $("new-chat");
  els.docStatus = $("doc-status");
  els.sendLabel = els.send.querySelector(".send-label");
  initViewer({ onClose: () => markActive(null) });
  initManage({ refresh: loadDocuments, notice: showNotice, announce });
  const saved = store.load();
  state.turns = saved.turns.map((turn) => ({ ...turn, response: normalize(turn.response) }));
  state.scope = saved.scope;
  bind();
  renderConversation();
  scrollToBottom();
  loadDocuments();
  document.documentElement.classList.add("is-ready");
}

init();
