// Tandem's window: three views fed by the app's commands and kept current by its events
// (handoffs-changed, memory-changed, health-changed). No polling, no build step.
"use strict";

const tauri = window.__TAURI__;
const invoke = (cmd, args) => tauri.core.invoke(cmd, args);
const $ = (sel) => document.querySelector(sel);
// replaceChildren without the nulls that conditional parts leave.
const fill = (node, ...children) => node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));

const state = {
  view: "handoffs",
  handoffId: null,
  memoryKey: null,
  query: "",
  seenHandoffs: new Set(),
  seenKeys: new Map(),
  health: null,
  firstLoad: { handoffs: true, memory: true },
  firstRunFor: null,
  firstRunDone: false,
};

// ---------- helpers ----------
function el(tag, props = {}, ...children) {
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

function ago(iso) {
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

function when(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toLocaleString();
}

let toastTimer = null;
function toast(text) {
  const t = $("#toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), 4000);
}

// A command's failure is {kind, message}; a refused argument is plain text.
const message = (e) => (e && typeof e === "object" && "message" in e ? e.message : String(e));

async function safely(fn) {
  try {
    return await fn();
  } catch (e) {
    toast(message(e));
    return undefined;
  }
}

// A search snippet marks matches as **word**: escape everything, then highlight those.
function snippet(text) {
  const frag = document.createDocumentFragment();
  const parts = String(text).split(/\*\*(.+?)\*\*/g);
  parts.forEach((p, i) => frag.append(i % 2 ? el("mark", { text: p }) : document.createTextNode(p)));
  return frag;
}

// Arrow keys move through a listbox; Enter/Space select.
function listKeys(list, onPick) {
  list.addEventListener("keydown", (e) => {
    const items = [...list.querySelectorAll("li")];
    const i = items.indexOf(document.activeElement);
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = items[Math.min(items.length - 1, Math.max(0, i + (e.key === "ArrowDown" ? 1 : -1)))];
      next?.focus();
    } else if ((e.key === "Enter" || e.key === " ") && i >= 0) {
      e.preventDefault();
      onPick(items[i]);
    }
  });
}

// ---------- navigation ----------
function show(view) {
  if (!["handoffs", "memory", "health"].includes(view)) view = "handoffs";
  state.view = view;
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const on = tab.dataset.view === view;
    tab.setAttribute("aria-selected", on);
    tab.tabIndex = on ? 0 : -1;
  }
  for (const v of ["handoffs", "memory", "health"]) $(`#view-${v}`).hidden = v !== view;
  if (location.hash !== `#${view}`) history.replaceState(null, "", `#${view}`);
}

// ---------- handoffs ----------
async function loadHandoffs() {
  const items = await safely(() => invoke("handoffs"));
  if (!items) return;
  const list = $("#handoff-list");
  list.replaceChildren(
    ...items.map((h) => {
      const fresh = !state.firstLoad.handoffs && !state.seenHandoffs.has(h.id + h.updatedAt);
      const li = el(
        "li",
        {
          role: "option",
          tabindex: "0",
          class: fresh ? "new" : undefined,
          "aria-selected": h.id === state.handoffId,
          dataset: { id: h.id },
          onclick: () => pickHandoff(h.id),
        },
        el("div", { class: "title" }, el("span", { text: h.title }), el("span", { class: `badge ${h.status}`, text: h.status })),
        el("div", { class: "meta", text: `${h.createdByLabel} · ${ago(h.createdAt)}${h.project ? " · " + h.project : ""}` }),
      );
      return li;
    }),
  );
  state.seenHandoffs = new Set(items.map((h) => h.id + h.updatedAt));
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
  const d = await safely(() => invoke("handoff", { id }));
  const pane = $("#handoff-detail");
  if (!d) return;
  const body = el("div", { class: "markdown" });
  body.innerHTML = d.html; // sanitised in Rust (pulldown-cmark + ammonia)
  const setStatus = (status) => async () => {
    await safely(() => invoke("handoff_set_status", { id, status }));
  };
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
      el("button", { class: "secondary", onclick: () => safely(() => invoke("handoff_open", { id })), text: "Open file" }),
      el("button", { class: "primary", id: "handoff-done", disabled: d.status === "done" || d.status === "invalid", onclick: setStatus("done"), text: "Mark done" }),
      el("button", { class: "danger", disabled: d.status === "dropped" || d.status === "invalid", onclick: setStatus("dropped"), text: "Drop" }),
    ),
    body,
    d.truncated ? el("p", { class: "note", text: "The file is longer than shown; open it to read the rest." }) : null,
  );
}

// ---------- memory ----------
async function loadMemory() {
  const query = state.query.trim();
  const list = await safely(() => invoke("memory", { query: query || null }));
  if (!list) return;
  if (query !== state.query.trim()) return; // a newer search is on its way
  const ul = $("#memory-list");
  ul.replaceChildren(
    ...list.items.map((m) => {
      const fresh = !state.firstLoad.memory && state.seenKeys.get(m.key) !== m.version;
      return el(
        "li",
        {
          role: "option",
          tabindex: "0",
          class: fresh ? "new" : undefined,
          "aria-selected": m.key === state.memoryKey,
          dataset: { key: m.key },
          onclick: () => pickMemory(m.key),
        },
        el("div", { class: "title" }, el("span", { text: m.key }), el("span", { class: "muted small", text: `v${m.version}` })),
        el("div", { class: "preview" }, list.query ? snippet(m.preview) : m.preview),
        el("div", { class: "meta" }, ...m.tags.map((t) => el("span", { class: "tag", text: t })), `${m.updatedByLabel} · ${ago(m.updatedAt)}`),
      );
    }),
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
  const d = await safely(() => invoke("memory_entry", { key }));
  if (!d) return;
  const pane = $("#memory-detail");
  fill(
    pane,
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
                    const r = await safely(() => invoke("memory_restore", { key, version: h.version }));
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

// ---------- health ----------
function renderHealth(h) {
  state.health = h;
  const pill = $("#status-pill");
  pill.textContent = h.statusLine;
  pill.dataset.overall = h.overall;

  const banner = $("#health-banner");
  banner.dataset.overall = h.overall;
  banner.replaceChildren(
    el("strong", { text: h.statusLine }),
    h.problems.length ? el("ul", {}, ...h.problems.map((p) => el("li", { text: p }))) : el("p", { class: "note", text: "Every server answers and every connected client is set up as it should be." }),
  );

  const servers = $("#servers tbody");
  servers.replaceChildren(
    ...h.servers.map((s) =>
      el(
        "tr",
        { dataset: { server: s.id } },
        el("th", { scope: "row", text: s.name }),
        el("td", {}, el("span", { class: `state ${s.state}`, id: `${s.id}-state`, text: s.state })),
        el("td", { text: s.detail + (s.pid ? ` (pid ${s.pid})` : "") }),
        el("td", { text: s.latencyMs == null ? "—" : `${s.latencyMs} ms` }),
        el("td", { id: s.id === "hub" ? "hub-restarts" : undefined, text: s.restarts == null ? "—" : String(s.restarts) }),
      ),
    ),
  );

  const clients = $("#clients tbody");
  const shown = h.clients.filter((c) => c.detected || c.connected || c.needsRepair || c.entries.length);
  clients.replaceChildren(
    ...shown.map((c) => {
      const checks = h.checks.filter((k) => k.client === c.id && k.outcome !== "skipped");
      const failed = checks.find((k) => k.outcome === "failed");
      const check = !checks.length
        ? "—"
        : failed
          ? `failed ${ago(h.checkedAt)}: ${failed.detail}${failed.fix ? " — " + failed.fix : ""}`
          : `passed ${ago(h.checkedAt)} (${Math.max(...checks.map((k) => k.latencyMs))} ms)`;
      const action = c.problem ? null : c.needsRepair ? "Repair" : !c.current ? "Connect" : null;
      return el(
        "tr",
        { dataset: { client: c.id } },
        el("th", { scope: "row" }, c.name, c.detected ? null : el("div", { class: "note", text: "not found on this machine" })),
        el(
          "td",
          {},
          el("span", { class: `state ${c.state}`, text: c.stateLabel }),
          c.problem ? el("div", { class: "note warn", text: c.problem }) : null,
          ...c.entries.filter((e) => e.health !== "current").map((e) => el("div", { class: "note", text: `${e.name}: ${e.health}` })),
        ),
        el("td", { text: check }),
        el("td", {}, action ? el("button", { class: action === "Repair" ? "primary small" : "secondary small", text: `${action}…`, onclick: () => preview([c.id], action === "Repair") }) : null),
      );
    }),
  );
  if (!shown.length) {
    clients.replaceChildren(el("tr", {}, el("td", { colspan: "4", class: "note", text: "No MCP client found on this machine. Install Claude Desktop or Claude Code, then come back here." })));
  }

  const firstRun = $("#first-run");
  // Once connected from here, the card stays to say what to restart.
  firstRun.hidden = !h.firstRun && !state.firstRunDone;
  if (h.firstRun && !state.firstRunDone) {
    const detected = h.clients.filter((c) => c.detected).map((c) => c.id);
    $("#first-run-clients").replaceChildren(...(detected.length ? h.clients.filter((c) => c.detected).map((c) => el("li", { text: c.name })) : [el("li", { text: "no client detected yet" })]));
    // What connecting them all would write, shown once per set of detected clients (health
    // events come often; the diff only changes with the clients).
    const shown = detected.join(",");
    if (detected.length && state.firstRunFor !== shown) {
      state.firstRunFor = shown;
      preview(detected, false, $("#first-run-result"), "Connect all");
    }
  } else if (!h.firstRun) {
    state.firstRunFor = null;
  }

  renderNotice(h);
  const hubServes = !h.hubServes
    ? "no hub answers"
    : h.hubServes.sharedDir === h.home.sharedDir && h.hubServes.store === h.home.store
      ? "these folders"
      : `${h.hubServes.sharedDir} and ${h.hubServes.store} (not this installation's)`;
  const input = $("#shared-input");
  // Never overwrite what the person is typing; follow a move made elsewhere.
  if (document.activeElement !== input && input.dataset.shown !== h.home.sharedDir) {
    input.value = h.home.sharedDir;
    input.dataset.shown = h.home.sharedDir;
  }
  $("#facts").replaceChildren(
    ...[
      ["Shared folder", h.home.sharedDir + (h.home.sharedDir === h.home.defaultSharedDir ? " (default)" : ""), "shared"],
      ["State folder", h.home.stateDir, null],
      ["Store", h.home.store, null],
      ["The hub serves", hubServes, null],
      ["Tandem's logs", h.logs.tandem, "logs"],
      ["App log", h.logs.app, "app-logs"],
      ["tandem binary", h.tandem, null],
    ].flatMap(([k, v, which]) => [
      el("dt", { text: k }),
      el("dd", { text: v || "—" }),
      which ? el("button", { class: "secondary small", text: "Open", onclick: () => safely(() => invoke("open_folder", { which })) }) : el("span"),
    ]),
  );
}

// A notice shown until the person dismisses it (files an earlier version left elsewhere).
function renderNotice(h) {
  const notice = h.notices[0];
  const box = $("#notice");
  box.hidden = !notice;
  if (notice) $("#notice-text").textContent = notice.message;
}

async function moveShared(dir) {
  const error = $("#move-error");
  error.textContent = "";
  try {
    const h = await invoke("move_shared_folder", { dir });
    $("#shared-input").dataset.shown = "";
    renderHealth(h);
    toast(`The shared folder is now ${h.home.sharedDir}`);
  } catch (e) {
    error.textContent = message(e);
  }
}

function diffBlock(text) {
  const pre = el("pre", { class: "diff" });
  for (const line of text.split("\n")) {
    const cls = line.startsWith("+++") || line.startsWith("---") ? null : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : null;
    pre.append(cls ? el("span", { class: cls, text: line }) : line, "\n");
  }
  return pre;
}

// Shows what connecting (or repairing) would write, with a button that writes it.
async function preview(clients, repair, target = $("#connect-preview"), confirm = repair ? "Repair" : "Connect") {
  const plans = await safely(() => invoke("connect_plan", { clients, repair }));
  if (!plans) return;
  target.hidden = false;
  const changing = plans.filter((p) => p.changes && !p.error);
  fill(
    target,
    el("h3", { text: repair ? "Repair: what will change" : "What will change" }),
    ...plans.map((p) =>
      el(
        "div",
        { class: "plan" },
        el("h4", { text: p.name }),
        p.error ? el("p", { class: "note warn", text: p.error }) : null,
        !p.error && !p.changes ? el("p", { class: "note", text: "Already as it should be; nothing to write." }) : null,
        ...p.files.filter((f) => f.diff).map((f) => el("div", {}, el("div", { class: "note", text: (f.creates ? "creates " : "changes ") + f.path }), diffBlock(f.diff))),
        p.skipped.length ? el("p", { class: "note warn", text: `${p.skipped.join(" and ")}: not Tandem's; left as is (Repair replaces it).` }) : null,
        p.changes ? el("p", { class: "note", text: `Afterwards: ${p.restartNote}.` }) : null,
      ),
    ),
    el(
      "div",
      { class: "actions" },
      el("button", {
        class: "primary",
        id: target.id === "first-run-result" ? "connect-all" : "connect-confirm",
        disabled: !changing.length,
        text: confirm,
        onclick: () => apply(changing.map((p) => p.client), repair, target),
      }),
      target.id === "first-run-result" ? null : el("button", { class: "secondary", text: "Cancel", onclick: () => (target.hidden = true) }),
    ),
  );
  if (target.id !== "first-run-result") target.scrollIntoView({ block: "nearest" });
}

async function apply(clients, repair, target) {
  // Set first: the health event that the connection sends may come before its reply.
  if (target.id === "first-run-result") state.firstRunDone = true;
  const results = await safely(() => invoke("connect", { clients, repair }));
  if (!results) return;
  const restart = results.filter((r) => r.ok && r.changed && r.needsRestart);
  target.hidden = false;
  fill(
    target,
    el("h3", { text: "Done" }),
    el("ul", {}, ...results.map((r) => el("li", { class: r.ok ? "" : "note warn", text: `${r.message}${r.ok && r.changed ? " — " + r.restartNote : ""}` }))),
    restart.length ? el("p", { class: "note warn", text: `Restart ${restart.map((r) => r.name).join(", ")} for the change to take effect.` }) : null,
  );
}

async function loadHealth() {
  const h = await safely(() => invoke("health"));
  if (h) renderHealth(h);
}

// ---------- start ----------
function wire() {
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => show(tab.dataset.view));
    tab.addEventListener("keydown", (e) => {
      const tabs = [...document.querySelectorAll("[role=tab]")];
      const i = tabs.indexOf(tab);
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        const next = tabs[(i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
        next.focus();
        show(next.dataset.view);
      }
    });
  }
  $("#status-pill").addEventListener("click", () => show("health"));
  let timer = null;
  $("#memory-search").addEventListener("input", (e) => {
    state.query = e.target.value;
    clearTimeout(timer);
    timer = setTimeout(loadMemory, 120);
  });
  listKeys($("#handoff-list"), (li) => pickHandoff(li.dataset.id));
  listKeys($("#memory-list"), (li) => pickMemory(li.dataset.key));
  $("#check-now").addEventListener("click", async () => {
    await safely(() => invoke("check_now"));
    toast("Checking every configured entry…");
  });
  window.addEventListener("hashchange", () => show(location.hash.slice(1)));
  $("#move-shared").addEventListener("submit", (e) => {
    e.preventDefault();
    moveShared($("#shared-input").value.trim());
  });
  $("#move-default").addEventListener("click", () => moveShared(null));
  $("#notice-open").addEventListener("click", () => safely(() => invoke("open_folder", { which: "leftover" })));
  $("#notice-dismiss").addEventListener("click", async () => {
    const h = await safely(() => invoke("dismiss_notice"));
    if (h) renderHealth(h);
  });
}

async function start() {
  wire();
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
