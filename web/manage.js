// Settings (the key) and the documents' upkeep: the "Add documents" panel, with a progress bar
// and a result per file, and "Remove document" in the source viewer.

import { getKey, removeDocument, setKey, uploadFile } from "./api.js";
import { clear, h } from "./dom.js";
import { closeViewer, forgetDocuments, shownDocument } from "./viewer.js";

const $ = (id) => document.getElementById(id);
let hooks = {};

function showKeyed() {
  const keyed = Boolean(getKey());
  $("add-open").hidden = !keyed;
  $("viewer-remove").hidden = !keyed;
}

export function openSettings() {
  $("key").value = getKey();
  $("settings").showModal();
}

function saveSettings() {
  setKey($("key").value.trim());
  showKeyed();
  hooks.announce(getKey() ? "Key saved for this session." : "Key removed.");
  hooks.refresh();
}

const OUTCOMES = {
  added: (doc) => `Added as “${doc.title}”.`,
  exists: (doc) => `Already here, as “${doc.title}”.`,
  replaced: (doc) => `Replaced; now “${doc.title}”.`,
};

async function uploadAll(files) {
  const collection = $("collection").value.trim();
  const items = [...files].map((file) => {
    const bar = h("progress", { max: "1", value: "0", "aria-label": `Uploading ${file.name}` });
    const result = h("p", { class: "upload-result" }, "Waiting…");
    const item = h("li", { class: "upload" }, h("span", { class: "upload-name" }, file.name), bar, result);
    $("uploads").append(item);
    return { file, bar, result, item };
  });
  let changed = false;
  for (const { file, bar, result, item } of items) {
    result.textContent = "Uploading…";
    try {
      const got = await uploadFile(file, collection, (part) => {
        bar.value = part;
        if (part >= 1) result.textContent = "Reading and indexing…";
      });
      bar.value = 1;
      const say = OUTCOMES[got.outcome];
      if (got.outcome === "refused" || !say) throw new Error(got.error?.message ?? "The server refused this file.");
      result.textContent = say(got.document ?? { title: file.name });
      item.classList.add(`is-${got.outcome}`);
      changed ||= got.outcome !== "exists";
    } catch (error) {
      bar.value = 0;
      result.textContent = `Not added: ${error.message}`;
      item.classList.add("is-refused");
    }
    hooks.announce(`${file.name}: ${result.textContent}`);
  }
  if (changed) await hooks.refresh();
}

function confirmRemoval(title) {
  const dialog = $("confirm");
  $("confirm-text").textContent = `“${title}” and its file will be removed from the server, for everyone.`;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "remove"), { once: true });
  });
}

async function removeShown() {
  const doc = shownDocument();
  if (!doc || !(await confirmRemoval(doc.title))) return;
  try {
    await removeDocument(doc.id);
  } catch (error) {
    return hooks.notice(`Could not remove “${doc.title}”. ${error.message}`);
  }
  closeViewer();
  forgetDocuments();
  await hooks.refresh();
  hooks.announce(`“${doc.title}” removed.`);
}

/** Lists the known collections for the panel's collection field. */
export function setCollections(names) {
  clear($("collection-names")).append(...names.map((name) => h("option", { value: name })));
}

/** hooks: refresh() reloads the document list, notice(message), announce(message). */
export function initManage(options) {
  hooks = options;
  showKeyed();
  $("settings-open").addEventListener("click", openSettings);
  $("settings-cancel").addEventListener("click", () => $("settings").close());
  $("settings-form").addEventListener("submit", saveSettings);
  $("add-open").addEventListener("click", () => $("add").showModal());
  $("add-close").addEventListener("click", () => $("add").close());
  const input = $("files");
  input.addEventListener("change", () => {
    const files = [...input.files];
    input.value = "";
    if (files.length) uploadAll(files);
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("is-over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("is-over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("is-over");
    if (event.dataTransfer?.files.length) uploadAll(event.dataTransfer.files);
  });
  $("viewer-remove").addEventListener("click", removeShown);
}
