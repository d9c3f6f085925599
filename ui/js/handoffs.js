// The Handoffs view: newest first, kept current by `handoffs-changed`, rows updated by key.

import { $, ago, el, fill, flash, invoke, listbox, safely, syncList } from "./dom.js";
import { state } from "./state.js";

function rowContent(h) {
  return [
    el("div", { class: "title" }, el("span", { text: h.title }), el("span", { class: `badge ${h.status}`, text: h.status })),
    el("div", { class: "meta", text: `${h.createdByLabel} · ${ago(h.createdAt)}${h.project ? " · " + h.project : ""}` }),
  ];
}

export async function loadHandoffs() {
  const items = await safely(() => invoke("handoffs"), $("#handoff-error"));
  if (!items) return;
  const changed = (h) => !state.firstLoad.handoffs && state.seenHandoffs.get(h.id) !== h.updatedAt;
  syncList(
    $("#handoff-list"),
    items,
    "id",
    (h) => h.id,
    (h) => {
      const li = el("li", { role: "option", "aria-selected": h.id === state.handoffId }, ...rowContent(h));
      if (changed(h)) flash(li);
      return li;
    },
    (li, h) => {
      if (!changed(h)) return;
      li.replaceChildren(...rowContent(h));
      flash(li);
    },
  );
  state.seenHandoffs = new Map(items.map((h) => [h.id, h.updatedAt]));
  state.firstLoad.handoffs = false;
  $("#handoff-empty").hidden = items.length > 0;
  if (state.handoffId && items.some((h) => h.id === state.handoffId)) {
    await showHandoff(state.handoffId);
  } else if (items.length && !state.handoffId) {
    await pickHandoff(items[0].id);
  }
}

async function pickHandoff(id) {
  state.handoffId = id;
  for (const li of document.querySelectorAll("#handoff-list li")) li.setAttribute("aria-selected", li.dataset.id === id);
  await showHandoff(id);
}

async function showHandoff(id) {
  const pane = $("#handoff-detail");
  const d = await safely(() => invoke("handoff", { id }), $("#handoff-error"));
  if (!d) return;
  const body = el("div", { class: "markdown" });
  body.innerHTML = d.html; // sanitised in Rust (pulldown-cmark + ammonia)
  const setStatus = (status) => () => safely(() => invoke("handoff_set_status", { id, status }), $("#handoff-error"));
  fill(
    pane,
    el("h2", { text: d.title }),
    el(
      "div",
      { class: "meta" },
      el("span", { class: `badge ${d.status}`, text: d.status }),
      ` created by ${d.createdByLabel} ${ago(d.createdAt)} · updated ${ago(d.updatedAt)} · `,
      el("code", { text: d.path }),
    ),
    d.error ? el("p", { class: "note warn", text: `This file's front matter is invalid: ${d.error}` }) : null,
    el(
      "div",
      { class: "actions" },
      el("button", { class: "secondary", onclick: () => safely(() => invoke("handoff_open", { id }), $("#handoff-error")), text: "Open file" }),
      el("button", { class: "primary", id: "handoff-done", disabled: d.status === "done" || d.status === "invalid", onclick: setStatus("done"), text: "Mark done" }),
      el("button", { class: "danger", disabled: d.status === "dropped" || d.status === "invalid", onclick: setStatus("dropped"), text: "Drop" }),
    ),
    body,
    d.truncated ? el("p", { class: "note", text: "The file is longer than shown; open it to read the rest." }) : null,
  );
}

export function wireHandoffs() {
  listbox($("#handoff-list"), (li) => pickHandoff(li.dataset.id));
}
