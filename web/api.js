// The HTTP API, with every failure turned into an ApiError that carries a message fit for people.

const TIMEOUT_MS = 20000;
const KEY = "qa.key";

/** The key entered in the settings, kept for this tab's session only. */
export function getKey() {
  try {
    return sessionStorage.getItem(KEY) || "";
  } catch {
    return "";
  }
}

export function setKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY, key);
    else sessionStorage.removeItem(KEY);
  } catch {
    /* storage disabled: the key is not kept */
  }
}

// Reads send the key only once the server has asked for one (a 401 on a read).
let readsNeedKey = false;
const auth = (write) => (getKey() && (write || readsNeedKey) ? { Authorization: `Bearer ${getKey()}` } : {});
/** The headers a read sends (pdf.js fetches a PDF's file itself). */
export const readHeaders = () => auth(false);

export class ApiError extends Error {
  /** kind: "network", "timeout", "rate-limit", "server", "client". */
  constructor(kind, message, status = 0, code = "") {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
    this.code = code;
  }
}

const FRIENDLY = {
  network: "Could not reach the server. Check that it is running and your connection is up, then try again.",
  timeout: "The server took too long to answer. Please try again.",
  400: "The server could not read that question.",
  404: "The server could not find what was asked for.",
  413: "That question is too long. Please shorten it.",
  401: "The server did not accept the key. Enter the right one in Settings (the gear button).",
  403: "This server does not accept changes to its documents.",
  415: "The server did not accept the request format.",
  429: "Too many questions in a short time. Wait a moment, then try again.",
  500: "Something went wrong on the server while answering. Please try again in a moment.",
};

function retryHint(response) {
  const seconds = Number.parseInt(response.headers.get("Retry-After") || "", 10);
  if (!Number.isFinite(seconds) || seconds <= 0) return "";
  if (seconds < 90) return ` You can ask again in ${seconds} seconds.`;
  const minutes = Math.round(seconds / 60);
  return minutes < 90 ? ` You can ask again in about ${minutes} minutes.` : " You can ask again later.";
}

/** The error for a failed answer: `body` its parsed JSON (or null), `retry` a Retry-After hint. */
export function errorFor(status, body, retry = "") {
  const detail = body?.error ?? null;
  const code = typeof detail?.code === "string" ? detail.code : "";
  if (status === 0) return new ApiError("network", FRIENDLY.network);
  if (status === 429) return new ApiError("rate-limit", FRIENDLY[429] + retry, status, code);
  if (status >= 500) return new ApiError("server", FRIENDLY[500], status, code);
  const message = typeof detail?.message === "string" && detail.message ? detail.message : "";
  const text = status === 401 ? FRIENDLY[401] : message || FRIENDLY[status] || FRIENDLY[400];
  return new ApiError("client", text, status, code);
}

async function readError(response, write) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.status === 401 && !write) readsNeedKey = true;
  return errorFor(response.status, body, retryHint(response));
}

/** Fetches JSON, raising ApiError on network failure, timeout or a non-2xx status; `write` sends the key. */
export async function request(path, { method = "GET", body, signal, write = false } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException("timeout", "TimeoutError")), TIMEOUT_MS);
  signal?.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: {
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...auth(write),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
      cache: "no-store",
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    const timedOut = controller.signal.reason?.name === "TimeoutError";
    throw new ApiError(timedOut ? "timeout" : "network", timedOut ? FRIENDLY.timeout : FRIENDLY.network);
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok) throw await readError(response, write);
  try {
    return await response.json();
  } catch {
    throw new ApiError("server", FRIENDLY[500], response.status);
  }
}

export function ask({ question, history = [], anchor = null, documents = null, collections = null, k, signal }) {
  const body = { question, history };
  if (anchor) body.anchor = anchor;
  if (documents?.length) body.documents = documents;
  if (collections?.length) body.collections = collections;
  if (k) body.k = k;
  return request("/api/ask", { method: "POST", body, signal });
}

/** The first `limit` documents, and how many the corpus holds in all. */
export const listDocuments = (limit) =>
  request(`/api/documents?limit=${limit}`).then((data) => ({ documents: data.documents ?? [], total: data.total ?? 0 }));

export const getDocument = (id) => request(`/api/documents/${encodeURIComponent(id)}`);

export const getSuggestions = () => request("/api/suggestions").then((data) => data.suggestions ?? []);

export const removeDocument = (id) => request(`/api/documents/${encodeURIComponent(id)}`, { method: "DELETE", write: true });

/** Uploads one file with XMLHttpRequest (for its progress events); resolves to its result. */
export function uploadFile(file, collection, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const form = new FormData();
    form.append("file", file, file.name);
    if (collection) form.append("collection", collection);
    xhr.open("POST", "/api/documents");
    xhr.setRequestHeader("Accept", "application/json");
    for (const [name, value] of Object.entries(auth(true))) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    xhr.onerror = () => reject(errorFor(0, null));
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && body?.files?.[0]) resolve(body.files[0]);
      else reject(errorFor(xhr.status >= 200 && xhr.status < 300 ? 500 : xhr.status, body));
    };
    xhr.send(form);
  });
}
