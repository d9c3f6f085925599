// `cargo xtask bench workspace`: the reference @modelcontextprotocol/server-filesystem and
// `tandem mcp workspace` on the same tree of 5 000 files, driven by the same official
// TypeScript SDK client in one run. Usage: node bench-workspace.mjs <workdir>
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const require = createRequire(import.meta.url);
const REFERENCE = require.resolve("@modelcontextprotocol/server-filesystem/dist/index.js");
const TANDEM = process.env.TANDEM_BIN;
const WORK = path.resolve(process.argv[2]);
const N = { read: 1000, write: 300, list: 500, search: 30, tree: 30, grep: 50, floor: 2000 };

rmSync(WORK, { recursive: true, force: true });
const TREE = path.join(WORK, "tree");
const words = ["alpha", "beta", "gamma", "delta", "handoff", "plan", "memory", "client"];
let files = 0;
for (let a = 0; a < 50; a++) {
  for (let b = 0; b < 10; b++) {
    const dir = path.join(TREE, `area-${a}`, `part-${b}`);
    mkdirSync(dir, { recursive: true });
    for (let c = 0; c < 10; c++) {
      const ext = c % 3 === 0 ? "md" : c % 3 === 1 ? "rs" : "txt";
      const lines = [];
      for (let l = 0; l < 30; l++) lines.push(`line ${l} ${words[(a + b + c + l) % words.length]} item-${a}-${b}-${c}`);
      writeFileSync(path.join(dir, `file-${c}.${ext}`), lines.join("\n") + "\n");
      files++;
    }
  }
}
const SAMPLE = path.join(TREE, "area-7", "part-3", "file-4.rs");
mkdirSync(path.join(TREE, "scratch"), { recursive: true });

function pct(samples, p) {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function time(n, f) {
  for (let i = 0; i < Math.min(20, n); i++) await f(i);
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f(i);
    samples.push(performance.now() - t0);
  }
  return { p50: pct(samples, 50), p99: pct(samples, 99) };
}

// Two calls timed in alternation, so that whatever else the machine does weighs on both alike.
async function interleaved(n, fa, fb) {
  for (let i = 0; i < 20; i++) { await fa(); await fb(); }
  const a = [], b = [];
  for (let i = 0; i < n; i++) {
    let t0 = performance.now();
    await fa();
    a.push(performance.now() - t0);
    t0 = performance.now();
    await fb();
    b.push(performance.now() - t0);
  }
  return [{ p50: pct(a, 50), p99: pct(a, 99) }, { p50: pct(b, 50), p99: pct(b, 99) }];
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
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
  } catch {
    return NaN;
  }
}

async function measure(label, spec, withGrep) {
  const cold = [];
  for (let i = 0; i < 5; i++) {
    const { client, startMs } = await connect(spec);
    cold.push(startMs);
    await client.close();
  }
  const { client, transport } = await connect(spec);
  const call = async (name, args) => {
    const r = await client.callTool({ name, arguments: args });
    if (r.isError) throw new Error(`${label} ${name}: ${JSON.stringify(r.content)}`);
    return r;
  };
  const row = { label, coldStartMs: pct(cold, 50) };
  row.read = await time(N.read, () => call("read_text_file", { path: SAMPLE }));
  row.write = await time(N.write, (i) =>
    call("write_file", { path: path.join(TREE, "scratch", `w-${i % 50}.txt`), content: `write ${i}\n`.repeat(20) }),
  );
  row.list = await time(N.list, () => call("list_directory", { path: path.join(TREE, "area-7") }));
  row.search = await time(N.search, () => call("search_files", { path: TREE, pattern: "**/*.md" }));
  row.tree = await time(N.tree, () => call("directory_tree", { path: TREE }));
  row.grep = withGrep ? await time(N.grep, () => call("grep", { pattern: "item-7-3-\\d" })) : null;
  // read_text_file against a trivial tool call of the same server, in alternation.
  [row.pairTrivial, row.pairRead] = await interleaved(
    N.read,
    () => call("list_allowed_directories", {}),
    () => call("read_text_file", { path: SAMPLE }),
  );
  row.peakRssMb = peakRssMb(transport.pid);
  await client.close();
  return row;
}

const tandemSpec = { command: TANDEM, args: ["mcp", "workspace", "--root", TREE], env: { ...process.env, TANDEM_HOME: path.join(WORK, "home") } };
const floorConn = await connect(tandemSpec);
const floor = await time(N.floor, () => floorConn.client.ping());
const trivial = await time(N.floor, () => floorConn.client.callTool({ name: "list_allowed_directories", arguments: {} }));
await floorConn.client.close();

const rows = [
  await measure("reference", { command: process.execPath, args: [REFERENCE, TREE] }, false),
  await measure("tandem", tandemSpec, true),
];

const f = (x) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
console.log(`\ntree: ${files} files in ${50 * 10 + 50 + 1} folders`);
console.log(`floor (TypeScript SDK client → tandem): ping p50 ${f(floor.p50)} ms; trivial tool call (list_allowed_directories) p50 ${f(trivial.p50)} ms\n`);
const ops = ["read", "write", "list", "search", "tree", "grep"];
const header = ["server", "cold start", ...ops.flatMap((o) => [`${o} p50`, `${o} p99`]), "peak RSS MB"];
console.log(header.join(" | "));
console.log(header.map(() => "---").join(" | "));
for (const r of rows) {
  console.log([r.label, f(r.coldStartMs), ...ops.flatMap((o) => (r[o] ? [f(r[o].p50), f(r[o].p99)] : ["n/a", "n/a"])), f(r.peakRssMb)].join(" | "));
}
const [ref, tan] = rows;
console.log("\nspeed-up, reference p50 / tandem p50 (higher is better):");
console.log(
  `  cold ${f(ref.coldStartMs / tan.coldStartMs)}x, read ${f(ref.read.p50 / tan.read.p50)}x, write ${f(ref.write.p50 / tan.write.p50)}x, list ${f(ref.list.p50 / tan.list.p50)}x, search_files ${f(ref.search.p50 / tan.search.p50)}x, directory_tree ${f(ref.tree.p50 / tan.tree.p50)}x; RSS ${f(tan.peakRssMb / ref.peakRssMb)} of the reference`,
);
const ok = (b) => (b ? "ok" : "MISSED");
console.log("targets:");
console.log(`  read_text_file ${f(tan.read.p50 / trivial.p50)}x a trivial tool call (≤1.2 ${ok(tan.read.p50 <= 1.2 * trivial.p50)}); timed in alternation with it: ${f(tan.pairRead.p50)} vs ${f(tan.pairTrivial.p50)} ms = ${f(tan.pairRead.p50 / tan.pairTrivial.p50)}x (≤1.2 ${ok(tan.pairRead.p50 <= 1.2 * tan.pairTrivial.p50)})`);
console.log(`  search_files ${f(ref.search.p50 / tan.search.p50)}x faster (≥10 ${ok(ref.search.p50 >= 10 * tan.search.p50)}), directory_tree ${f(ref.tree.p50 / tan.tree.p50)}x faster (≥10 ${ok(ref.tree.p50 >= 10 * tan.tree.p50)})`);
console.log(`  peak RSS ${f(tan.peakRssMb)} MB (≤15 ${ok(tan.peakRssMb <= 15)})`);
writeFileSync(path.join(WORK, "results.json"), JSON.stringify({ floor, trivial, rows }, null, 2));
