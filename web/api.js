// The HTTP API, with every failure turned into an ApiError that carries a message fit for people.

const TIMEOUT_MS = 20000;

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

async function readError(response) {
  let detail = null;
  try {
    detail = (await response.json())?.error ?? null;
  } catch {
    detail = null;
  }
  const status = response.status;
  const code = typeof detail?.code === "string" ? detail.code : "";
  if (status === 429) {
    return new ApiError("rate-limit", FRIENDLY[429] + retryHint(response), status, code);
  }
  if (status >= 500) return new ApiError("server", FRIENDLY[500], status, code);
  const message = typeof detail?.message === "string" && detail.message ? detail.message : "";
  return new ApiError("client", message || FRIENDLY[status] || FRIENDLY[400], status, code);
}

/** Fetches JSON, raising ApiError on network failure, timeout or a non-2xx status. */
export async function request(path, { method = "GET", body, signal } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException("timeout", "TimeoutError")), TIMEOUT_MS);
  signal?.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? { Accept: "application/json" } : { "Content-Type": "application/json", Accept: "application/json" },
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
  if (!response.ok) throw await readError(response);
  try {
    return await response.json();
  } catch {
    throw new ApiError("server", FRIENDLY[500], response.status);
  }
}

export function ask({ question, history = [], anchor = null, documents = null, k, signal }) {
  const body = { question, history };
  if (anchor) body.anchor = anchor;
  if (documents?.length) body.documents = documents;
  if (k) body.k = k;
  return request("/api/ask", { method: "POST", body, signal });
}

/** The first `limit` documents, and how many the corpus holds in all. */
export const listDocuments = (limit) =>
  request(`/api/documents?limit=${limit}`).then((data) => ({ documents: data.documents ?? [], total: data.total ?? 0 }));

export const getDocument = (id) => request(`/api/documents/${encodeURIComponent(id)}`);

export const getSuggestions = () => request("/api/suggestions").then((data) => data.suggestions ?? []);
