// The Health view: servers, clients (Connect and Repair after a diff), the folders this
// installation uses and moving the shared folder, and the notice about an earlier folder.

import { $, ago, el, fill, invoke, message, safely, toast } from "./dom.js";
import { state } from "./state.js";

export function renderHealth(h) {
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
          c.advice ? el("div", { class: "note warn", text: c.advice }) : null,
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
    // A client that reaches Tandem through its plugin needs nothing connected.
    const toConnect = h.clients.filter((c) => c.detected && !c.plugin);
    const detected = toConnect.map((c) => c.id);
    $("#first-run-clients").replaceChildren(...(detected.length ? toConnect.map((c) => el("li", { text: c.name })) : [el("li", { text: "no client detected yet" })]));
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

export async function loadHealth() {
  const h = await safely(() => invoke("health"));
  if (h) renderHealth(h);
}

export function wireHealth() {
  $("#check-now").addEventListener("click", async () => {
    await safely(() => invoke("check_now"));
    toast("Checking every configured entry…");
  });
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
