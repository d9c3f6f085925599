// The Memory view: newest first or search hits, kept current by `memory-changed`, rows updated
// by key; the selected entry's value and history, with restore.

import { $, ago, el, fill, flash, invoke, listbox, safely, snippet, syncList, toast, when } from "./dom.js";
import { state } from "./state.js";

function rowContent(m, query) {
  return [
    el("div", { class: "title" }, el("span", { text: m.key }), el("span", { class: "muted small", text: `v${m.version}` })),
    el("div", { class: "preview" }, query ? snippet(m.preview) : m.preview),
    el("div", { class: "meta" }, ...m.tags.map((t) => el("span", { class: "tag", text: t })), `${m.updatedByLabel} · ${ago(m.updatedAt)}`),
  ];
}

export async function loadMemory() {
  const query = state.query.trim();
  const list = await safely(() => invoke("memory", { query: query || null }), $("#memory-error"));
  if (!list) return;
  if (query !== state.query.trim()) return; // a newer search is on its way
  const changed = (m) => !state.firstLoad.memory && state.seenKeys.get(m.key) !== m.version;
  const ul = $("#memory-list");
  // A new search shows other rows: those are rebuilt; a live update changes only its rows.
  if (ul.dataset.query !== (list.query ?? "")) ul.replaceChildren();
  ul.dataset.query = list.query ?? "";
  syncList(
    ul,
    list.items,
    "key",
    (m) => m.key,
    (m) => {
      const li = el("li", { role: "option", "aria-selected": m.key === state.memoryKey }, ...rowContent(m, list.query));
      if (changed(m)) flash(li);
      return li;
    },
    (li, m) => {
      if (!changed(m)) return;
      li.replaceChildren(...rowContent(m, list.query));
      flash(li);
    },
  );
  for (const m of list.items) state.seenKeys.set(m.key, m.version);
  state.firstLoad.memory = false;
  $("#memory-count").textContent = list.query
    ? `${list.items.length} match${list.items.length === 1 ? "" : "es"} for “${list.query}”`
    : `${list.total} entr${list.total === 1 ? "y" : "ies"}, newest first`;
  const empty = $("#memory-empty");
  empty.hidden = list.items.length > 0;
  if (list.query && !list.items.length) {
    empty.textContent = `Nothing matches “${list.query}”.`;
  } else {
    empty.replaceChildren("Nothing in memory yet — ask Claude to remember a decision (the ", el("code", { text: "memory_set" }), " tool), and it shows up here.");
  }
  if (state.memoryKey) await showMemory(state.memoryKey);
}

async function pickMemory(key) {
  state.memoryKey = key;
  for (const li of document.querySelectorAll("#memory-list li")) li.setAttribute("aria-selected", li.dataset.key === key);
  await showMemory(key);
}

async function showMemory(key) {
  const d = await safely(() => invoke("memory_entry", { key }), $("#memory-error"));
  if (!d) return;
  fill(
    $("#memory-detail"),
    el("h2", { text: d.key }),
    el("div", { class: "meta" }, ...d.tags.map((t) => el("span", { class: "tag", text: t })), `version ${d.version} · ${d.updatedByLabel} · ${when(d.updatedAt)}`),
    d.value === null ? el("p", { class: "note warn", text: "Deleted. Restore an earlier version below to bring it back." }) : el("pre", { class: "json", id: "memory-value", text: d.value }),
    el("h3", { text: "History" }),
    el(
      "ul",
      { class: "history" },
      ...d.history.map((h) =>
        el(
          "li",
          {},
          el(
            "div",
            { class: "row" },
            el("span", { text: `v${h.version} · ${h.op} · ${h.byLabel} · ${when(h.at)}` }),
            h.deleted || h.version === d.version
              ? null
              : el("button", {
                  class: "secondary small",
                  text: "Restore",
                  "aria-label": `Restore version ${h.version}`,
                  onclick: async () => {
                    const r = await safely(() => invoke("memory_restore", { key, version: h.version }), $("#memory-error"));
                    if (r) toast(`Restored ${key} to version ${h.version} (now version ${r.version})`);
                  },
                }),
          ),
          h.deleted ? null : el("pre", { text: h.value }),
        ),
      ),
    ),
  );
}

export function wireMemory() {
  let timer = null;
  $("#memory-search").addEventListener("input", (e) => {
    state.query = e.target.value;
    clearTimeout(timer);
    timer = setTimeout(loadMemory, 120);
  });
  listbox($("#memory-list"), (li) => pickMemory(li.dataset.key));
}
