// The small DOM helper every view uses: building elements, times for people, errors (a toast,
// or inline with role="alert"), and lists updated by key so that focus and a screen reader's
// place survive live updates.

export const tauri = window.__TAURI__;
export const invoke = (cmd, args) => tauri.core.invoke(cmd, args);
export const $ = (sel) => document.querySelector(sel);
// replaceChildren without the nulls that conditional parts leave.
export const fill = (node, ...children) => node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function ago(iso) {
  if (!iso) return "";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  if (s < 45) return "just now";
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h} h ago`;
  return new Date(t).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function when(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toLocaleString();
}

let toastTimer = null;
export function toast(text) {
  const t = $("#toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), 4000);
}

// A command's failure is {kind, message}; a refused argument is plain text.
export const message = (e) => (e && typeof e === "object" && "message" in e ? e.message : String(e));

// Runs a command; a failure is shown inline in `alert` (an element with role="alert") when
// given, else as a toast. Returns undefined on failure.
export async function safely(fn, alert) {
  if (alert) alert.textContent = "";
  try {
    return await fn();
  } catch (e) {
    if (alert) alert.textContent = message(e);
    else toast(message(e));
    return undefined;
  }
}

// A search snippet marks matches as **word**: escape everything, then highlight those.
export function snippet(text) {
  const frag = document.createDocumentFragment();
  const parts = String(text).split(/\*\*(.+?)\*\*/g);
  parts.forEach((p, i) => frag.append(i % 2 ? el("mark", { text: p }) : document.createTextNode(p)));
  return frag;
}

// Makes `ul` hold one row per item, in order, keyed by `data-<attr>`: a row that is already
// there is updated in place (`update`), a new one is made (`create`), a gone one removed.
// Rows that stay are never re-created, so the focused row keeps focus.
export function syncList(ul, items, attr, keyOf, create, update) {
  const old = new Map([...ul.children].map((li) => [li.dataset[attr], li]));
  items.forEach((item, i) => {
    const key = keyOf(item);
    let li = old.get(key);
    if (li) {
      old.delete(key);
      update(li, item);
    } else {
      li = create(item);
      li.dataset[attr] = key;
    }
    if (ul.children[i] !== li) ul.insertBefore(li, ul.children[i] ?? null);
  });
  for (const li of old.values()) li.remove();
  rove(ul);
}

// One tab stop per listbox: the focused row, else the selected one, else the first.
function rove(ul) {
  const rows = [...ul.children];
  const stop = rows.find((li) => li === document.activeElement) ?? rows.find((li) => li.getAttribute("aria-selected") === "true") ?? rows[0];
  for (const li of rows) li.tabIndex = li === stop ? 0 : -1;
}

// A listbox: arrows, Home and End move through the rows, Enter or Space (or a click) picks one.
export function listbox(ul, onPick) {
  ul.addEventListener("keydown", (e) => {
    const rows = [...ul.children];
    const i = rows.indexOf(document.activeElement);
    const to = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: rows.length - 1 }[e.key];
    if (to !== undefined) {
      e.preventDefault();
      rows[Math.min(rows.length - 1, Math.max(0, to))]?.focus();
    } else if ((e.key === "Enter" || e.key === " ") && i >= 0) {
      e.preventDefault();
      onPick(rows[i]);
    }
  });
  ul.addEventListener("focusin", () => rove(ul));
  ul.addEventListener("click", (e) => {
    const li = e.target.closest("li");
    if (li && li.parentElement === ul) onPick(li);
  });
}

// Marks a row as just changed (a short flash; none where motion is reduced, see app.css).
export function flash(li) {
  li.classList.remove("new");
  void li.offsetWidth; // restart the animation
  li.classList.add("new");
}
