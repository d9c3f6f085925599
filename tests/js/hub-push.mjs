// Two TypeScript SDK clients on the hub: B hears A's writes as resources/list_changed (and
// resources/updated for a subscribed entry). Prints each latency, measured from the moment
// A's memory_set returned. Usage: node hub-push.mjs <base-url> <token>
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { performance } from "node:perf_hooks";

const [base, token] = process.argv.slice(2);
const connect = async (name) => {
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/memory`), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name, version: "1" });
  await client.connect(transport);
  return client;
};
const a = await connect("claude-ai");
const b = await connect("claude-code");
let waiting = null;
b.setNotificationHandler(ResourceListChangedNotificationSchema, () => waiting?.("list"));
const updated = [];
b.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => updated.push(n.params.uri));
// Let B's server-to-client stream open before the first write.
await new Promise((r) => setTimeout(r, 300));

const latencies = [];
for (let i = 0; i < 5; i++) {
  const heard = new Promise((resolve) => (waiting = resolve));
  await a.callTool({ name: "memory_set", arguments: { key: `push/${i}`, value: i } });
  const t0 = performance.now();
  const outcome = await Promise.race([heard, new Promise((r) => setTimeout(() => r("timeout"), 5000))]);
  latencies.push(outcome === "timeout" ? null : performance.now() - t0);
  await new Promise((r) => setTimeout(r, 100));
}
await b.subscribeResource({ uri: "memory://entry/push/0" });
await a.callTool({ name: "memory_set", arguments: { key: "push/0", value: "again" } });
const until = Date.now() + 5000;
while (!updated.includes("memory://entry/push/0") && Date.now() < until) {
  await new Promise((r) => setTimeout(r, 20));
}
const got = await b.callTool({ name: "memory_get", arguments: { keys: ["push/0"] } });
await a.close();
await b.close();
console.log(JSON.stringify({ latencies, updated, updatedBy: got.structuredContent.entries[0].updatedBy }));
