// `cargo xtask bench memory`: the reference @modelcontextprotocol/server-memory and
// `tandem mcp memory`, driven by the same official TypeScript SDK client in one run.
// Usage: node bench-memory.mjs <workdir>   (TANDEM_BIN = the release binary)
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ResourceListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

const require = createRequire(import.meta.url);
const REFERENCE = require.resolve("@modelcontextprotocol/server-memory/dist/index.js");
const TANDEM = process.env.TANDEM_BIN;
const WORK = process.argv[2];
const SMALL = 10_000;
const LARGE = 100_000;
const N = { get: 1000, set: 300, search: 300, floor: 2000 };

// With PostgreSQL settings in PG* (`cargo xtask bench` runs under a throw-away server), the
// team store over loopback too.
const PG_BASE = process.env.PGHOST
  ? `postgres://${process.env.PGUSER}:${process.env.PGPASSWORD}@${process.env.PGHOST}:${process.env.PGPORT}/${process.env.PGDATABASE}`
  : null;
function teamUrl(team) {
  spawnSync("psql", ["-qc", `DROP SCHEMA IF EXISTS ${team} CASCADE`], { stdio: "ignore" });
  return `${PG_BASE}?team=${team}`;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });

function dataset(n) {
  const file = path.join(WORK, `graph-${n}.jsonl`);
  const types = ["person", "project", "decision", "service"];
  const lines = [];
  for (let i = 0; i < n; i++) {
    lines.push(
      JSON.stringify({
        type: "entity",
        name: `entity-${i}`,
        entityType: types[i % types.length],
        observations: [
          `works on topic${i % 500} with team${i % 37}`,
          `decided to use library${i % 211} for component${i % 97}`,
          `note ${i}: reviewed on day ${i % 365}`,
        ],
      }),
    );
  }
  writeFileSync(file, lines.join("\n"));
  return file;
}

function tandemTeam(n, jsonl) {
  const url = teamUrl(`bench_${n}`);
  const r = spawnSync(TANDEM, ["memory", "import", jsonl, "--store", url], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`import into the team failed: ${r.stderr}`);
  return url;
}

function tandemDb(n, jsonl) {
  const db = path.join(WORK, `tandem-${n}.db`);
  if (jsonl) {
    const r = spawnSync(TANDEM, ["memory", "import", jsonl, "--db", db], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`import failed: ${r.stderr}`);
  }
  return db;
}

async function connect(spec) {
  const transport = new StdioClientTransport({ ...spec, stderr: "ignore" });
  const client = new Client({ name: "bench", version: "1" });
  const t0 = performance.now();
  await client.connect(transport);
  return { client, transport, startMs: performance.now() - t0 };
}

function peakRssMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)[1]);
    return kb / 1024;
  } catch {
    return NaN;
  }
}

function pct(samples, p) {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function time(n, f) {
  for (let i = 0; i < Math.min(50, n); i++) await f(i); // warm-up
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f(i);
    samples.push(performance.now() - t0);
  }
  return { p50: pct(samples, 50), p99: pct(samples, 99) };
}

async function coldStart(spec) {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const { client, startMs } = await connect(spec);
    times.push(startMs);
    await client.close();
  }
  return pct(times, 50);
}

async function check(result, what) {
  if (result.isError) throw new Error(`${what}: ${JSON.stringify(result.content)}`);
  return result;
}

async function measure(label, spec, ops) {
  const cold = await coldStart(spec);
  const { client, transport } = await connect(spec);
  const call = (name, args) => client.callTool({ name, arguments: args }).then((r) => check(r, name));
  const row = { label, coldStartMs: cold };
  row.get = await time(N.get, (i) => call(...ops.get(i)));
  row.set = await time(N.set, (i) => call(...ops.set(i)));
  row.search = await time(N.search, (i) => call(...ops.search(i)));
  row.peakRssMb = peakRssMb(transport.pid);
  await client.close();
  return row;
}

const tandemOps = (n) => ({
  get: (i) => ["memory_get", { keys: [`entity/entity-${(i * 7919) % n}`] }],
  set: (i) => ["memory_set", { key: `entity/entity-${(i * 104729) % n}`, value: { note: `update ${i}` } }],
  search: (i) => ["memory_search", { query: `topic${i % 500}` }],
});
const referenceOps = (n) => ({
  get: (i) => ["open_nodes", { names: [`entity-${(i * 7919) % n}`] }],
  set: (i) => [
    "add_observations",
    { observations: [{ entityName: `entity-${(i * 104729) % n}`, contents: [`update ${i}`] }] },
  ],
  search: (i) => ["search_nodes", { query: `topic${i % 500}` }],
});

// The floor: what the client and the pipe cost for a call that does nothing.
async function floor() {
  const { client } = await connect({ command: TANDEM, args: ["mcp", "memory", "--db", tandemDb("empty")] });
  const ping = await time(N.floor, () => client.ping());
  const miss = await time(N.floor, () =>
    client.callTool({ name: "memory_get", arguments: { keys: ["missing"] } }),
  );
  await client.close();
  return { ping, miss };
}

const small = dataset(SMALL);
const large = dataset(LARGE);
const refFile = path.join(WORK, "reference.jsonl");
writeFileSync(refFile, readFileSync(small));

const fl = await floor();
const rows = [];
rows.push(
  await measure(
    `reference @${SMALL}`,
    { command: process.execPath, args: [REFERENCE], env: { ...process.env, MEMORY_FILE_PATH: refFile } },
    referenceOps(SMALL),
  ),
);
for (const [n, file] of [[SMALL, small], [LARGE, large]]) {
  const db = tandemDb(n, file);
  rows.push(await measure(`tandem @${n}`, { command: TANDEM, args: ["mcp", "memory", "--db", db] }, tandemOps(n)));
}

if (PG_BASE) {
  const url = tandemTeam(SMALL, small);
  rows.push(await measure(`tandem postgres @${SMALL}`, { command: TANDEM, args: ["mcp", "memory", "--store", url] }, tandemOps(SMALL)));
}

// Feed latency: a write by a client of one server process (machine A) until a client of
// another (machine B, its own state folder) is told that entries changed.
async function feedLatency(label, args) {
  const spec = (m) => ({ command: TANDEM, args, env: { ...process.env, TANDEM_HOME: path.join(WORK, `machine-${m}`) } });
  const a = await connect(spec("a"));
  const b = await connect(spec("b"));
  let heard = null;
  b.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
    if (heard) {
      const h = heard;
      heard = null;
      h(performance.now());
    }
  });
  const samples = [];
  let missed = 0;
  for (let i = 0; i < 110; i++) {
    const told = new Promise((r) => (heard = r));
    const t0 = performance.now();
    await check(await a.client.callTool({ name: "memory_set", arguments: { key: `feed/k${i}`, value: i } }), "memory_set");
    const t1 = await Promise.race([told, sleep(5000).then(() => NaN)]);
    if (!Number.isFinite(t1)) missed++;
    else if (i >= 10) samples.push(t1 - t0);
    await sleep(40);
  }
  await a.client.close();
  await b.client.close();
  return { label, p50: pct(samples, 50), p99: pct(samples, 99), missed };
}

// 10 000 memory_set from 4 server processes at once (2 per "machine"), 4 calls in flight
// each, then 50 compare-and-swap increments of one counter from each; every key is read back.
async function load(label, args) {
  const PROCS = 4;
  const PER = 2500;
  const INCS = 50;
  const clients = [];
  for (let p = 0; p < PROCS; p++) {
    clients.push(await connect({ command: TANDEM, args, env: { ...process.env, TANDEM_HOME: path.join(WORK, `machine-${p % 2}`) } }));
  }
  const call = (c, name, args) => c.callTool({ name, arguments: args });
  let conflicts = 0;
  const t0 = performance.now();
  await Promise.all(clients.map(async ({ client }, p) => {
    let next = 0;
    const worker = async () => {
      while (next < PER) {
        const i = next++;
        await check(await call(client, "memory_set", { key: `load/p${p}/k${i}`, value: { p, i } }), "memory_set");
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    for (let j = 0; j < INCS; j++) {
      for (;;) {
        const got = await call(client, "memory_get", { keys: ["load/counter"] });
        const e = got.structuredContent.entries[0];
        const r = await call(client, "memory_set", { key: "load/counter", value: (e ? e.value : 0) + 1, expectedVersion: e ? e.version : 0 });
        if (!r.isError) break;
        conflicts++;
      }
    }
  }));
  const ms = performance.now() - t0;
  const c = clients[0].client;
  let found = 0;
  for (let p = 0; p < PROCS; p++) {
    for (let i = 0; i < PER; i += 100) {
      const keys = Array.from({ length: 100 }, (_, k) => `load/p${p}/k${i + k}`);
      found += (await call(c, "memory_get", { keys })).structuredContent.entries.length;
    }
  }
  const counter = (await call(c, "memory_get", { keys: ["load/counter"] })).structuredContent.entries[0].value;
  for (const { client } of clients) await client.close();
  return { label, ms, lost: PROCS * PER - found, counter, expected: PROCS * INCS, conflicts };
}

const feeds = [await feedLatency("sqlite (two processes, one file)", ["mcp", "memory", "--db", tandemDb("feed")])];
const loads = [await load("sqlite", ["mcp", "memory", "--db", tandemDb("load")])];
if (PG_BASE) {
  feeds.push(await feedLatency("postgres (two machines, one team)", ["mcp", "memory", "--store", teamUrl("bench_feed")]));
  loads.push(await load("postgres", ["mcp", "memory", "--store", teamUrl("bench_load")]));
}

const f = (x) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
console.log(`\nfloor (TypeScript SDK client, tandem, empty db): ping p50 ${f(fl.ping.p50)} ms, p99 ${f(fl.ping.p99)} ms; memory_get of a missing key p50 ${f(fl.miss.p50)} ms, p99 ${f(fl.miss.p99)} ms\n`);
const header = ["server", "cold start", "get p50", "get p99", "set p50", "set p99", "search p50", "search p99", "peak RSS MB"];
console.log(header.join(" | "));
console.log(header.map(() => "---").join(" | "));
for (const r of rows) {
  console.log([r.label, f(r.coldStartMs), f(r.get.p50), f(r.get.p99), f(r.set.p50), f(r.set.p99), f(r.search.p50), f(r.search.p99), f(r.peakRssMb)].join(" | "));
}
const ref = rows[0];
console.log("\nratios tandem/reference (lower is better):");
for (const r of rows.slice(1)) {
  console.log(
    `  ${r.label}: cold ${f(r.coldStartMs / ref.coldStartMs)}, get ${f(r.get.p50 / ref.get.p50)}, set ${f(r.set.p50 / ref.set.p50)}, search ${f(r.search.p50 / ref.search.p50)}, RSS ${f(r.peakRssMb / ref.peakRssMb)}`,
  );
}
// Two floors: a ping (no tool machinery at all) and a trivial tool call (a get of a missing
// key on an empty database: the same request, result and output-schema validation in the
// client, with no data).
const ok = (b) => (b ? "ok" : "MISSED");
for (const [name, floorP50] of [["the ping floor", fl.ping.p50], ["the trivial-tool-call floor", fl.miss.p50]]) {
  console.log(`\ntargets (vs ${name}, ${f(floorP50)} ms):`);
  for (const r of rows.slice(1)) {
    console.log(
      `  ${r.label}: get ${f(r.get.p50 / floorP50)}x floor (≤1.3 ${ok(r.get.p50 <= 1.3 * floorP50)}), set ${f(r.set.p50 / floorP50)}x (≤2 ${ok(r.set.p50 <= 2 * floorP50)}), search ${f(r.search.p50)} ms (≤1 ${ok(r.search.p50 <= 1)}), cold ${f(r.coldStartMs)} ms (≤15 ${ok(r.coldStartMs <= 15)}), RSS ${f(r.peakRssMb)} MB (≤20 ${ok(r.peakRssMb <= 20)})`,
    );
  }
}
console.log("\nfeed latency, a write on A until B's client is told (ms):");
for (const r of feeds) console.log(`  ${r.label}: p50 ${f(r.p50)}, p99 ${f(r.p99)}, missed ${r.missed} of 110`);
console.log("\n10 000 memory_set from 4 processes (2 per machine) + 200 CAS increments:");
for (const r of loads) {
  console.log(`  ${r.label}: ${f(r.ms / 1000)} s (${f((10000 / r.ms) * 1000)} sets/s), lost ${r.lost}, counter ${r.counter} of ${r.expected} (${ok(r.counter === r.expected)}), ${r.conflicts} CAS retries`);
}
writeFileSync(path.join(WORK, "results.json"), JSON.stringify({ floor: fl, rows, feeds, loads }, null, 2));
console.log(JSON.stringify({ floor: fl, rows, feeds, loads }));
