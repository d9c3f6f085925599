// `cargo xtask bench hook`: the wall time of Claude Code's prompt hook (`tandem hook prompt`,
// process start to exit, as Claude Code runs it) on the embedded store with 10 000 entries —
// with nothing new (the common case: it prints nothing) and with one change per prompt written
// by a `claude-ai` client through the official TypeScript SDK.
// Usage: node bench-hook.mjs <workdir>   (TANDEM_BIN = the release binary)
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const TANDEM = process.env.TANDEM_BIN;
const WORK = process.argv[2];
const ENTRIES = 10_000;
const QUIET = 300;
const BUSY = 100;

// With PostgreSQL settings in PG* (`cargo xtask bench` runs under a throw-away server), the
// same again on a team store over loopback.
const PG = process.env.PGHOST
  ? `postgres://${process.env.PGUSER}:${process.env.PGPASSWORD}@${process.env.PGHOST}:${process.env.PGPORT}/${process.env.PGDATABASE}?team=bench_hook`
  : null;

const lines = [];
for (let i = 0; i < ENTRIES; i++) {
  lines.push(JSON.stringify({
    type: "entity", name: `entity-${i}`, entityType: "decision",
    observations: [`decided to use library${i % 211} for component${i % 97}`],
  }));
}
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function run(label, store) {
  rmSync(WORK, { recursive: true, force: true });
  const state = path.join(WORK, "state");
  mkdirSync(state, { recursive: true });
  const env = { ...process.env, HOME: WORK, TANDEM_HOME: state };
  if (store) env.TANDEM_STORE = store;
  const jsonl = path.join(WORK, "graph.jsonl");
  writeFileSync(jsonl, lines.join("\n"));
  const where = store ? ["--store", store] : ["--db", path.join(state, "memory.db")];
  const imported = spawnSync(TANDEM, ["memory", "import", jsonl, ...where], { encoding: "utf8", env });
  if (imported.status !== 0) throw new Error(`import failed: ${imported.stderr}`);

  const input = JSON.stringify({ session_id: "bench-session", hook_event_name: "UserPromptSubmit", prompt: "go on" });
  function hook(event) {
    const t0 = performance.now();
    const r = spawnSync(TANDEM, ["hook", event], { input, env, encoding: "utf8" });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`hook failed: ${r.stderr}`);
    return { ms, chars: r.stdout.length };
  }

  hook("session-start");
  const quiet = [];
  for (let i = 0; i < QUIET; i++) {
    const { ms, chars } = hook("prompt");
    if (chars !== 0) throw new Error("a quiet prompt got context");
    quiet.push(ms);
  }

  // The writer is another app (Claude Desktop), not this process, which plays the Claude Code
  // session whose hook runs: the hook leaves out what its own client process wrote. `timeout`
  // stands in as that other app's process.
  const transport = new StdioClientTransport({ command: "timeout", args: ["600", TANDEM, "mcp", "memory"], env, stderr: "ignore" });
  const client = new Client({ name: "claude-ai", version: "0.14" });
  await client.connect(transport);
  const busy = [];
  let added = 0;
  for (let i = 0; i < BUSY; i++) {
    await client.callTool({ name: "memory_set", arguments: { key: `proj/changed-${i}`, value: { n: i } } });
    const { ms, chars } = hook("prompt");
    if (chars === 0) throw new Error("a change was not told");
    busy.push(ms);
    added += chars;
  }
  await client.close();

  console.log(`prompt hook, ${label}, ${ENTRIES} entries, process start to exit:`);
  console.log(`  nothing new   p50 ${pct(quiet, 0.5).toFixed(1)} ms  p99 ${pct(quiet, 0.99).toFixed(1)} ms  (goal ${store ? "60" : "15 / 50"}), 0 characters`);
  console.log(`  one change    p50 ${pct(busy, 0.5).toFixed(1)} ms  p99 ${pct(busy, 0.99).toFixed(1)} ms  (goal ${store ? "60" : "15 / 50"}), ${Math.round(added / BUSY)} characters of hook JSON each`);
}

await run("SQLite file", null);
if (PG) {
  spawnSync("psql", ["-qc", "DROP SCHEMA IF EXISTS bench_hook CASCADE"], { stdio: "ignore" });
  await run("team store (PostgreSQL over loopback)", PG);
}
