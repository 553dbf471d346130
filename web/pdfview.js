// A PDF in the source viewer: one page at a time, drawn by pdf.js (served from our origin, loaded
// only when a PDF is opened) with its text layer, the cited sentence's boxes highlighted.
//
// Finding the sentence: a passage's start/end count characters of the page's text as PDFium
// extracts it (qa/ingest/readers/pdf.py), which is not pdf.js's text items end to end. Compared
// on the same page: PDFium ends a line with "\r\n" where pdf.js ends an item with hasEOL (or
// adds an empty one); a line-end hyphen is U+FFFE with the line break gone in PDFium's text
// ("mill\ufffewrights") and "mill-" + "wrights" in two items in pdf.js's; and PDFium makes its
// own spaces between words where a PDF draws them apart, which pdf.js may split into items
// differently. So the offsets are not used as they are: the sentence is found by its text, both
// sides compared without white space and hyphens, the occurrence nearest the passage's start
// taken; for a sentence that goes on to the next page, the longest beginning of it on the page,
// and on the next page what is left of it, found nearest that page's start.

import { h } from "./dom.js";

const PDFJS = "/assets/vendor/pdfjs";
const SKIPPED = /[\s\-\u00ad\u2010\ufffe]/u;
const MIN_MATCH = 12; // a shorter piece found on the page is not taken for the sentence

let library = null;

function pdfjs() {
  library ??= import(`${PDFJS}/build/pdf.min.mjs`).then((lib) => {
    lib.GlobalWorkerOptions.workerSrc = `${PDFJS}/build/pdf.worker.min.mjs`;
    return lib;
  });
  return library;
}

/** Opens the PDF at `url`; pdf.js fetches it and its fonts' data from our origin. */
export async function openPdf(url, httpHeaders = {}) {
  const lib = await pdfjs();
  return lib.getDocument({
    url,
    httpHeaders,
    isEvalSupported: false, // the CSP forbids eval: pdf.js draws glyphs without it
    standardFontDataUrl: `${PDFJS}/standard_fonts/`,
    cMapUrl: `${PDFJS}/cmaps/`,
    wasmUrl: `${PDFJS}/wasm/`,
  }).promise;
}

/** The text's characters that count, folded, each with where it came from. */
function folded(strings) {
  let text = "";
  const at = [];
  strings.forEach((str, item) => {
    for (let i = 0; i < str.length; i += 1) {
      if (SKIPPED.test(str[i])) continue;
      const char = str[i].normalize("NFKC").toLowerCase();
      text += char;
      for (let k = 0; k < char.length; k += 1) at.push([item, i]);
    }
  });
  return { text, at };
}

/**
 * Where `sentence` (less its first `skip` folded characters) is in the page's text items:
 * { first, last } as [item, offset], and `length`, how many folded characters were found; or null.
 */
export function findSentence(items, sentence, start = 0, skip = 0) {
  const page = folded(items);
  const wanted = folded([sentence]).text.slice(skip);
  const total = items.reduce((n, s) => n + s.length, 0) || 1;
  const near = skip ? 0 : (start / total) * page.text.length; // about where PDFium's offset falls
  const best = (piece) => {
    let found = -1;
    for (let i = page.text.indexOf(piece); i >= 0; i = page.text.indexOf(piece, i + 1)) {
      if (found < 0 || Math.abs(i - near) < Math.abs(found - near)) found = i;
    }
    return found;
  };
  // A beginning found on the page means every shorter one is: look for the longest.
  let low = 0;
  let high = wanted.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (best(wanted.slice(0, mid)) >= 0) low = mid;
    else high = mid - 1;
  }
  if (low < wanted.length) {
    // Part of the sentence: it ends at a word's end (the page's number may follow "in" and
    // look like the "1" of "1887" on the next page).
    let end = -skip;
    let cut = 0;
    for (const word of sentence.split(/\s+/)) {
      end += folded([word]).text.length;
      if (end <= low) cut = end;
    }
    low = Math.max(cut, 0);
  }
  if (low < Math.min(MIN_MATCH, wanted.length) || low === 0) return null;
  const at = best(wanted.slice(0, low));
  return { first: page.at[at], last: page.at[at + low - 1], length: low };
}

/** Boxes over the characters from `first` to `last` ([item, offset]) of the text layer. */
function markBoxes(layer, box, { first, last }) {
  const origin = box.getBoundingClientRect();
  const marks = [];
  for (let item = first[0]; item <= last[0]; item += 1) {
    const node = layer.textDivs[item]?.firstChild;
    if (!node) continue;
    const range = document.createRange();
    range.setStart(node, item === first[0] ? first[1] : 0);
    range.setEnd(node, item === last[0] ? last[1] + 1 : node.length);
    for (const rect of range.getClientRects()) {
      if (rect.width < 1) continue;
      const mark = h("div", { class: "pdf-mark" });
      Object.assign(mark.style, {
        left: `${rect.left - origin.left}px`,
        top: `${rect.top - origin.top}px`,
        width: `${rect.width}px`,
        height: `${rect.height}px`,
      });
      marks.push(mark);
    }
  }
  box.append(...marks);
  return marks;
}

/**
 * Draws page `number` of `pdf` into `box`, `width` pixels wide, and highlights `cited` on it
 * when given: { text, start, skip }, skip the folded characters of text on the page before.
 * Returns { mark, length }: the first highlight box and how much of the text was found, or null.
 */
export async function renderPage(pdf, number, box, width, cited = null) {
  const lib = await pdfjs();
  const page = await pdf.getPage(number);
  const viewport = page.getViewport({ scale: width / page.getViewport({ scale: 1 }).width });
  const ratio = window.devicePixelRatio || 1;
  const canvas = h("canvas", { class: "pdf-canvas", "aria-hidden": "true" });
  canvas.width = Math.floor(viewport.width * ratio);
  canvas.height = Math.floor(viewport.height * ratio);
  const text = h("div", { class: "textLayer" });
  box.replaceChildren(canvas, text);
  box.style.setProperty("--total-scale-factor", viewport.scale);
  box.style.width = `${viewport.width}px`;
  box.style.height = `${viewport.height}px`;
  const transform = ratio === 1 ? null : [ratio, 0, 0, ratio, 0, 0];
  await page.render({ canvas, viewport, transform }).promise;
  const layer = new lib.TextLayer({ textContentSource: await page.getTextContent(), container: text, viewport });
  await layer.render();
  box.dataset.rendered = String(number);
  if (!cited) return null;
  const where = findSentence(layer.textContentItemsStr, cited.text, cited.start, cited.skip);
  return where && { mark: markBoxes(layer, box, where)[0] ?? null, length: where.length };
}

/** How many characters of `text` the search compares. */
export const foldedLength = (text) => folded([text]).text.length;
