// `cargo xtask bench hub`: 8 concurrent TypeScript SDK clients × 1 000 mixed calls against one
// `tandem serve`. Prints p50/p99 per call kind and overall, calls per second and errors.
// Usage: node bench-hub.mjs <base-url> <token>
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { performance } from "node:perf_hooks";

const [base, token] = process.argv.slice(2);
const CLIENTS = 8;
const CALLS = 1000;
const connect = async (endpoint, name) => {
  const client = new Client({ name, version: "1" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}/${endpoint}`), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  return client;
};

// Some data to read and search.
const seed = await connect("memory", "seed");
for (let i = 0; i < 200; i++) {
  await seed.callTool({ name: "memory_set", arguments: { key: `bench/seed-${i}`, value: { topic: `topic${i % 20}`, n: i } } });
}
const ws = await connect("workspace", "seed");
await ws.callTool({ name: "write_file", arguments: { path: "bench/notes.md", content: "# notes\n".repeat(50) } });
await seed.close();
await ws.close();

const mix = [
  ["memory", "memory_get", (c, i) => ({ keys: [`bench/seed-${(c * 31 + i) % 200}`] })],
  ["memory", "memory_get", (c, i) => ({ keys: [`bench/seed-${(c * 17 + i) % 200}`] })],
  ["memory", "memory_set", (c, i) => ({ key: `bench/c${c}/k${i % 50}`, value: { i } })],
  ["memory", "memory_search", (c, i) => ({ query: `topic${(c + i) % 20}` })],
  ["memory", "memory_changes", () => ({ limit: 10 })],
  ["workspace", "read_text_file", () => ({ path: "bench/notes.md", head: 5 })],
  ["workspace", "list_directory", () => ({ path: "bench" })],
  ["workspace", "handoff_list", () => ({ limit: 5 })],
];
const samples = {};
let errors = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: CLIENTS }, async (_, c) => {
    const clients = { memory: await connect("memory", `client-${c}`), workspace: await connect("workspace", `client-${c}`) };
    for (let i = 0; i < CALLS; i++) {
      const [endpoint, tool, args] = mix[(c + i) % mix.length];
      const start = performance.now();
      try {
        const r = await clients[endpoint].callTool({ name: tool, arguments: args(c, i) });
        if (r.isError) errors++;
      } catch {
        errors++;
      }
      (samples[tool] ??= []).push(performance.now() - start);
    }
    await clients.memory.close();
    await clients.workspace.close();
  }),
);
const wall = (performance.now() - t0) / 1000;
const pct = (s, p) => [...s].sort((a, b) => a - b)[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
const all = Object.values(samples).flat();
const f = (x) => x.toFixed(3);
console.log(`\n${CLIENTS} clients × ${CALLS} mixed calls over HTTP: ${all.length} calls in ${wall.toFixed(2)} s = ${(all.length / wall).toFixed(0)} calls/s, ${errors} errors`);
console.log("call | n | p50 ms | p99 ms");
console.log("--- | --- | --- | ---");
for (const [tool, s] of Object.entries(samples)) console.log(`${tool} | ${s.length} | ${f(pct(s, 50))} | ${f(pct(s, 99))}`);
console.log(`all | ${all.length} | ${f(pct(all, 50))} | ${f(pct(all, 99))}`);
console.log(JSON.stringify({ calls: all.length, errors, seconds: wall, p50: pct(all, 50), p99: pct(all, 99) }));
process.exit(errors === 0 ? 0 : 1);
