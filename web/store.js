// The conversation, kept in localStorage so a reload loses nothing.

const KEY = "qa.conversation.v1";
const MAX_TURNS = 40;

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // Storage disabled (privacy settings): the chat still works, unsaved.
  }
}

function isTurn(turn) {
  return (
    turn &&
    typeof turn.id === "string" &&
    typeof turn.question === "string" &&
    turn.response &&
    typeof turn.response.answer === "string"
  );
}

/** The saved conversation: { turns: [{id, question, documents, response}], scope }. */
export function load() {
  try {
    const saved = JSON.parse(storage()?.getItem(KEY) ?? "null");
    const turns = Array.isArray(saved?.turns) ? saved.turns.filter(isTurn) : [];
    return { turns, scope: typeof saved?.scope === "string" ? saved.scope : "" };
  } catch {
    return { turns: [], scope: "" };
  }
}

export function save(state) {
  const data = JSON.stringify({ turns: state.turns.slice(-MAX_TURNS), scope: state.scope });
  try {
    storage()?.setItem(KEY, data);
  } catch {
    // Quota exceeded: keep the newest half rather than nothing.
    try {
      storage()?.setItem(KEY, JSON.stringify({ turns: state.turns.slice(-MAX_TURNS / 2), scope: state.scope }));
    } catch {
      /* give up quietly: the page keeps working */
    }
  }
}

export function reset() {
  try {
    storage()?.removeItem(KEY);
  } catch {
    /* nothing saved to remove */
  }
}
