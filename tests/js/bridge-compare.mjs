// The same TypeScript SDK client code over `tandem connect` (stdio) and over direct HTTP:
// same tools, same results, and the bridge passes the client's own clientInfo through.
// Usage: node bridge-compare.mjs <base-url> <token-file>
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [base, tokenFile] = process.argv.slice(2);
const token = readFileSync(tokenFile, "utf8").trim();
const out = {};
for (const endpoint of ["memory", "workspace"]) {
  const bridged = new Client({ name: "claude-ai", version: "0.14.1" });
  await bridged.connect(
    new StdioClientTransport({
      command: process.env.TANDEM_BIN,
      args: ["connect", `${base}/${endpoint}`, "--header", `Authorization: Bearer file:${tokenFile}`],
      env: process.env,
      stderr: "inherit",
    }),
  );
  const direct = new Client({ name: "direct", version: "1" });
  await direct.connect(
    new StreamableHTTPClientTransport(new URL(`${base}/${endpoint}`), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  const strip = (tools) => JSON.stringify(tools.map((t) => [t.name, t.inputSchema, t.outputSchema]));
  const viaBridge = (await bridged.listTools()).tools;
  const viaHttp = (await direct.listTools()).tools;
  out[endpoint] = {
    sameTools: strip(viaBridge) === strip(viaHttp),
    toolCount: viaBridge.length,
    samePrompts:
      JSON.stringify((await bridged.listPrompts()).prompts) === JSON.stringify((await direct.listPrompts()).prompts),
    serverName: bridged.getServerVersion()?.name,
  };
  if (endpoint === "memory") {
    const set = await bridged.callTool({ name: "memory_set", arguments: { key: "bridge/k", value: { via: "bridge" } } });
    const a = await bridged.callTool({ name: "memory_get", arguments: { keys: ["bridge/k"] } });
    const b = await direct.callTool({ name: "memory_get", arguments: { keys: ["bridge/k"] } });
    out.memory.setResult = set.structuredContent;
    out.memory.sameGet = JSON.stringify(a.structuredContent) === JSON.stringify(b.structuredContent);
    out.memory.updatedBy = b.structuredContent.entries[0].updatedBy;
  } else {
    const created = await bridged.callTool({
      name: "handoff_create",
      arguments: { title: "Through the bridge", summary: "S" },
    });
    const read = await direct.callTool({ name: "handoff_read", arguments: { id: created.structuredContent.id } });
    out.workspace.createdBy = read.structuredContent.createdBy;
  }
  await bridged.close();
  await direct.close();
}
console.log(JSON.stringify(out));
