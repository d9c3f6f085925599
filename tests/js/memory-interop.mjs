// Drives `tandem mcp memory` with the official TypeScript SDK client. The SDK validates every
// structuredContent against the tool's outputSchema once tools are listed; any mismatch,
// error result or surprise makes this script exit non-zero. Prints a JSON summary last.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const fail = (msg) => {
  console.error(msg);
  process.exit(1);
};

const transport = new StdioClientTransport({
  command: process.env.TANDEM_BIN,
  args: ["mcp", "memory"],
  env: process.env,
  stderr: "inherit",
});
const client = new Client({ name: "sdk-interop", version: "1.32.2" });
await client.connect(transport);

const { tools } = await client.listTools();
for (const tool of tools) {
  if (!tool.outputSchema) fail(`${tool.name} has no outputSchema`);
}

const call = async (name, args) => {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) fail(`${name} returned an error: ${JSON.stringify(result.content)}`);
  if (!result.structuredContent) fail(`${name} returned no structuredContent`);
  if (!result.content?.[0]?.text) fail(`${name} returned no text rendering`);
  return result.structuredContent;
};

const value = { method: "JWT with refresh tokens", library: "jose", rationale: "stateless auth" };
const set = await call("memory_set", { key: "proj-x/auth-approach", value, tags: ["auth"] });
const set2 = await call("memory_set", {
  key: "proj-x/auth-approach",
  value: { ...value, library: "jsonwebtoken" },
  expectedVersion: set.version,
});
const get = await call("memory_get", { keys: ["proj-x/auth-approach", "proj-x/missing"] });
const list = await call("memory_list", { prefix: "proj-x/" });
const search = await call("memory_search", { query: "refresh tokens" });
const history = await call("memory_history", { key: "proj-x/auth-approach" });
const restore = await call("memory_restore", { key: "proj-x/auth-approach", version: 1 });
const changes = await call("memory_changes", { since: 0 });
const del = await call("memory_delete", { key: "proj-x/auth-approach" });

// A conflict must be an isError result, not a protocol error.
const conflict = await client.callTool({
  name: "memory_set",
  arguments: { key: "proj-x/other", value: 1, expectedVersion: 5 },
});
if (!conflict.isError) fail("a stale expectedVersion was accepted");

const resources = await client.listResources();
const prompts = await client.listPrompts();
const recall = await client.getPrompt({ name: "recall", arguments: { topic: "auth" } });

await client.close();
console.log(
  JSON.stringify({
    tools: tools.map((t) => t.name).sort(),
    serverName: client.getServerVersion()?.name,
    set,
    set2,
    get,
    listKeys: list.entries.map((e) => e.key),
    searchKeys: search.hits.map((h) => h.key),
    historyVersions: history.versions.map((v) => v.version),
    restore,
    changeOps: changes.changes.map((c) => c.op),
    changeBy: changes.changes.map((c) => c.by),
    del,
    conflictText: conflict.content[0].text,
    resourceCount: resources.resources.length,
    prompts: prompts.prompts.map((p) => p.name),
    recallText: recall.messages[0].content.text,
  }),
);
