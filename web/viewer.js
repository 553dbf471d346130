// The source viewer: a whole document with its sections as headings, the cited sentence
// highlighted and scrolled into view; a PDF as its pages (web/pdfview.js). Beside the chat on
// wide screens, over it on phones.

import { getDocument, readHeaders } from "./api.js";
import { clear, h } from "./dom.js";
import { highlight } from "./highlight.js";
import { foldedLength, openPdf, renderPage } from "./pdfview.js";

const PHONE = window.matchMedia("(max-width: 859px)");
const REDUCED_MOTION = window.matchMedia("(prefers-reduced-motion: reduce)");

const cache = new Map();
const els = {};
let opener = null;
let token = 0;
let shownId = null;
let onClose = () => {};
let pdf = null; // the PDF shown: { doc, file, page, cited, box, at, prev, next }

function splitField(passage) {
  if (passage.label) return [passage.label, passage.text.replace(`${passage.label}:`, "").trim()];
  const colon = passage.text.indexOf(": ");
  return colon > 0 ? [passage.text.slice(0, colon), passage.text.slice(colon + 2)] : ["", passage.text];
}

function passageNode(passage) {
  if (passage.kind === "infobox") {
    const [label, value] = splitField(passage);
    return h("div", { class: "field passage", "data-passage": passage.id }, h("dt", {}, label), h("dd", {}, value));
  }
  if (passage.kind === "list") return h("li", { class: "passage", "data-passage": passage.id }, passage.text);
  return h("span", { class: "passage", "data-passage": passage.id }, passage.text);
}

/** The container a passage goes into: reuses the last one while kind (and paragraph) agree. */
function containerFor(passage, previous, current) {
  const tag = { infobox: "dl", list: "ul" }[passage.kind] ?? "p";
  const sameParagraph =
    previous &&
    previous.kind === passage.kind &&
    previous.section === passage.section &&
    (passage.kind !== "prose" || samePara(previous, passage));
  if (current && sameParagraph) return { node: current, fresh: false };
  return { node: h(tag, { class: `doc-${passage.kind === "infobox" ? "infobox" : passage.kind}` }), fresh: true };
}

function samePara(previous, passage) {
  if (previous.paragraph !== undefined && passage.paragraph !== undefined) {
    return previous.paragraph === passage.paragraph;
  }
  return passage.start - previous.end <= 1; // a blank line between sentences starts a paragraph
}

function renderDocument(doc) {
  const body = h("article", { class: "doc", "aria-label": doc.title });
  let section;
  let previous = null;
  let current = null;
  for (const passage of doc.passages) {
    if (passage.kind === "title") continue;
    if (passage.section !== section) {
      section = passage.section;
      if (section) body.append(h("h3", { class: "doc-section" }, section));
      previous = null;
    }
    const { node, fresh } = containerFor(passage, previous, current);
    if (fresh) body.append(node);
    else if (passage.kind === "prose") node.append(" ");
    node.append(passageNode(passage));
    current = node;
    previous = passage;
  }
  return body;
}

function markCited(passageId, terms, span) {
  for (const old of els.body.querySelectorAll(".is-cited")) {
    old.classList.remove("is-cited");
    old.removeAttribute("aria-current");
    old.querySelector(".cited-label")?.remove();
    for (const mark of old.querySelectorAll("mark")) mark.replaceWith(mark.textContent);
    old.normalize();
  }
  const target = [...els.body.querySelectorAll("[data-passage]")].find((n) => n.dataset.passage === passageId);
  if (!target) return null;
  target.classList.add("is-cited");
  target.setAttribute("aria-current", "true");
  const textHolder = target.querySelector("dd") ?? target;
  const text = textHolder.textContent;
  textHolder.replaceChildren(h("span", { class: "sr-only cited-label" }, "Cited sentence: "), ...highlight(text, terms, span));
  return target;
}

function reveal(target) {
  if (!target) return;
  requestAnimationFrame(() => {
    target.scrollIntoView({ block: "center", behavior: REDUCED_MOTION.matches ? "auto" : "smooth" });
  });
}

function syncModal() {
  const open = !els.viewer.hidden;
  // Covering the screen, the viewer is modal: what it hides leaves the focus order.
  els.chat.inert = open && PHONE.matches;
  els.topbar.inert = els.chat.inert;
  document.documentElement.classList.toggle("viewer-covers", open && PHONE.matches);
}

function show() {
  els.viewer.hidden = false;
  els.layout.classList.add("viewer-open");
  syncModal();
}

function status(message, kind = "") {
  clear(els.body).append(h("p", { class: `viewer-status ${kind}`.trim() }, message));
}

const isPdf = (doc) => doc.passages.some((passage) => passage.page != null);

/** The page view of a PDF: previous/next buttons, "Page N of M", the page drawn below. */
function renderPdfView(doc, file) {
  const go = (step) => showPage(pdf.page + step, pdf.cited).catch(pageFailed);
  const prev = h("button", { type: "button", class: "pdf-btn", onclick: () => go(-1) }, "‹ Previous");
  const next = h("button", { type: "button", class: "pdf-btn", onclick: () => go(1) }, "Next ›");
  const at = h("span", { class: "pdf-at", "aria-live": "polite" });
  const said = h("p", { class: "sr-only pdf-said" });
  const box = h("div", { class: "pdf-page" });
  pdf = { doc, file, page: 0, cited: null, box, at, prev, next, said };
  return h("div", { class: "pdf-view" }, h("nav", { class: "pdf-nav", "aria-label": "Pages" }, prev, at, next), said, box);
}

/** Draws page `number`, highlighting `cited` when it is on that page. */
async function showPage(number, cited) {
  const view = pdf;
  const pages = view.file.numPages;
  view.page = Math.min(Math.max(number, 1), pages);
  view.cited = cited;
  view.at.textContent = `Page ${view.page} of ${pages}`;
  view.prev.disabled = view.page === 1;
  view.next.disabled = view.page === pages;
  // The cited page, or the next one when the sentence goes on there (past what its page held).
  const on = cited?.page === view.page;
  const goesOn = cited?.page === view.page - 1 && view.found > 0 && view.found < view.whole;
  const here = on || goesOn ? { ...cited, skip: on ? 0 : view.found } : null;
  view.said.textContent = here ? `Cited sentence, on this page: ${here.text}` : "";
  const padding = parseFloat(getComputedStyle(els.body).paddingLeft) * 2;
  const width = Math.max(240, Math.min(1000, els.body.clientWidth - padding));
  const found = await renderPage(view.file, view.page, view.box, width, here);
  if (view !== pdf) return;
  if (on) [view.found, view.whole] = [found?.length ?? 0, foldedLength(cited.text)];
  if (found?.mark) reveal(found.mark);
  else els.body.scrollTop = 0;
}

function pageFailed(error) {
  if (pdf) pdf.box.replaceChildren(h("p", { class: "viewer-status is-error" }, `Could not draw this page. ${error.message}`));
}

function closePdf() {
  pdf?.file.destroy();
  pdf = null;
}

async function loadDocument(id) {
  if (!cache.has(id)) cache.set(id, getDocument(id).catch((error) => {
    cache.delete(id);
    throw error;
  }));
  return cache.get(id);
}

/**
 * Opens document `documentId` and highlights `passageId` (if any) with the matched `terms` and
 * the answer `span`. `from` is the element that asked, focused again when the viewer closes.
 */
export async function openSource({ documentId, title, passageId = null, terms = [], span = null, from = null }) {
  const mine = ++token;
  opener = from ?? document.activeElement;
  els.title.textContent = title || "Document";
  show();
  els.title.focus({ preventScroll: true });
  if (shownId !== documentId) {
    shownId = null;
    status("Loading the document…");
    try {
      const doc = await loadDocument(documentId);
      if (mine !== token) return;
      closePdf();
      if (isPdf(doc)) {
        const file = await openPdf(`/api/documents/${encodeURIComponent(documentId)}/file`, readHeaders());
        if (mine !== token) return void file.destroy();
        clear(els.body).append(renderPdfView(doc, file));
      } else {
        clear(els.body).append(renderDocument(doc));
      }
      els.title.textContent = doc.title;
      shownId = documentId;
    } catch (error) {
      if (mine !== token) return;
      status(`Could not open this document. ${error.message}`, "is-error");
      return;
    }
  }
  if (pdf) {
    const cited = pdf.doc.passages.find((passage) => passage.id === passageId) ?? null;
    return showPage(cited?.page ?? 1, cited).catch(pageFailed);
  }
  const target = passageId ? markCited(passageId, terms, span) : null;
  if (target) reveal(target);
  else els.body.scrollTop = 0;
}

export function closeViewer() {
  if (els.viewer.hidden) return;
  token += 1;
  els.viewer.hidden = true;
  els.layout.classList.remove("viewer-open");
  syncModal();
  onClose();
  const back = opener && opener.isConnected ? opener : document.getElementById("question");
  opener = null;
  back?.focus({ preventScroll: false });
}

export const isViewerOpen = () => !els.viewer.hidden;

/** The document the viewer shows, if one is loaded: { id, title }. */
export const shownDocument = () => (shownId && !els.viewer.hidden ? { id: shownId, title: els.title.textContent } : null);

export function initViewer(options = {}) {
  onClose = options.onClose ?? onClose;
  els.viewer = document.getElementById("viewer");
  els.layout = document.getElementById("layout");
  els.chat = document.getElementById("chat");
  els.topbar = document.querySelector(".topbar");
  els.title = document.getElementById("viewer-title");
  els.body = document.getElementById("viewer-body");
  document.getElementById("viewer-close").addEventListener("click", closeViewer);
  PHONE.addEventListener("change", syncModal);
}

/** Forgets cached documents (a new chat may follow a corpus change on the server). */
export function forgetDocuments() {
  cache.clear();
  closePdf();
  shownId = null;
}
