// Many memory_set calls in flight on the hub; prints "ack <key>" as each one is acknowledged
// (the test stops the hub part-way), then a JSON summary. Usage: node hub-storm.mjs <base-url> <token>
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [base, token] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL(`${base}/memory`), {
  requestInit: { headers: { Authorization: `Bearer ${token}` } },
});
const client = new Client({ name: "storm", version: "1" });
await client.connect(transport);
const acked = [];
let failed = 0;
// A call the server accepted but never answered would end here, by the client's timeout.
let timedOut = 0;
let next = 0;
const total = 400;
async function worker() {
  while (next < total) {
    const key = `storm/${next++}`;
    try {
      const r = await client.callTool(
        { name: "memory_set", arguments: { key, value: "x".repeat(100) } },
        undefined,
        { timeout: 30000 },
      );
      if (r.isError) {
        failed++;
      } else {
        acked.push(key);
        console.log(`ack ${key}`);
      }
    } catch (e) {
      if (String(e).includes("timed out") || e?.code === -32001) timedOut++;
      else failed++;
    }
  }
}
await Promise.all(Array.from({ length: 16 }, worker));
console.log(JSON.stringify({ acked, failed, timedOut }));
process.exit(0);
