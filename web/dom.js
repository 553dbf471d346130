// Tiny DOM helpers. Strings always become text nodes: nothing from the corpus or the user is
// ever parsed as HTML.

/**
 * Creates an element. `props` sets attributes ("class", "data-*", "aria-*", ...), boolean
 * attributes when true, and event handlers for keys starting with "on".
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

/** Appends children: nodes as they are, strings and numbers as text, arrays flattened. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** An inline SVG icon made of stroked paths (the `d` strings are our own constants). */
export function icon(...paths) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const d of paths) {
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

export const ICONS = {
  copy: ["M9 9h10v10H9z", "M5 15V5h10"],
  doc: ["M7 3h7l4 4v14H7z", "M14 3v4h4", "M10 12h5M10 16h5"],
  search: ["M11 18a7 7 0 1 1 0-14 7 7 0 0 1 0 14z", "M16.5 16.5 21 21"],
  arrow: ["M7 17 17 7", "M9 7h8v8"],
  history: ["M4 12a8 8 0 1 0 2.3-5.6", "M4 4v4h4", "M12 8v4l3 2"],
  spell: ["M4 20h4L19 9l-4-4L4 16z", "M13 7l4 4"],
  alias: ["M10 14a4 4 0 0 0 6 0l3-3a4 4 0 0 0-6-6l-1 1", "M14 10a4 4 0 0 0-6 0l-3 3a4 4 0 0 0 6 6l1-1"],
  next: ["M5 5v7a3 3 0 0 0 3 3h11", "M15 11l4 4-4 4"],
};

/** Removes every child of a node. */
export function clear(node) {
  node.replaceChildren();
  return node;
}
