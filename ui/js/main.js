// Tandem's window: three views fed by the app's commands and kept current by its events
// (handoffs-changed, memory-changed, health-changed). No polling, no build step: ES modules,
// one per view, and a small DOM helper.

import { $, tauri } from "./dom.js";
import { loadHandoffs, wireHandoffs } from "./handoffs.js";
import { loadHealth, renderHealth, wireHealth } from "./health.js";
import { loadMemory, wireMemory } from "./memory.js";
import { state } from "./state.js";

const VIEWS = ["handoffs", "memory", "health"];

function show(view) {
  if (!VIEWS.includes(view)) view = "handoffs";
  state.view = view;
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const on = tab.dataset.view === view;
    tab.setAttribute("aria-selected", on);
    tab.tabIndex = on ? 0 : -1;
  }
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== view;
  if (location.hash !== `#${view}`) history.replaceState(null, "", `#${view}`);
}

function wireTabs() {
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => show(tab.dataset.view));
    tab.addEventListener("keydown", (e) => {
      const tabs = [...document.querySelectorAll("[role=tab]")];
      const i = tabs.indexOf(tab);
      const to = { ArrowRight: i + 1, ArrowLeft: i + tabs.length - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (to !== undefined) {
        e.preventDefault();
        const next = tabs[to % tabs.length];
        next.focus();
        show(next.dataset.view);
      }
    });
  }
  $("#status-pill").addEventListener("click", () => show("health"));
  window.addEventListener("hashchange", () => show(location.hash.slice(1)));
}

async function start() {
  wireTabs();
  wireHandoffs();
  wireMemory();
  wireHealth();
  show(location.hash.slice(1) || "handoffs");
  const ev = tauri.event;
  await ev.listen("handoffs-changed", () => loadHandoffs());
  await ev.listen("memory-changed", () => loadMemory());
  await ev.listen("health-changed", (e) => renderHealth(e.payload));
  await ev.listen("navigate", (e) => show(e.payload));
  await Promise.all([loadHandoffs(), loadMemory(), loadHealth()]);
  document.body.dataset.ready = "true";
}

start();
