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

const require = createRequire(import.meta.url);
const REFERENCE = require.resolve("@modelcontextprotocol/server-memory/dist/index.js");
const TANDEM = process.env.TANDEM_BIN;
const WORK = process.argv[2];
const SMALL = 10_000;
const LARGE = 100_000;
const N = { get: 1000, set: 300, search: 300, floor: 2000 };

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
writeFileSync(path.join(WORK, "results.json"), JSON.stringify({ floor: fl, rows }, null, 2));
console.log(JSON.stringify({ floor: fl, rows }));
