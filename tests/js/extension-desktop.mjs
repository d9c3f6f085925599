// Starts an unpacked Claude Desktop extension's server as Desktop starts it — the manifest's
// command and args with ${__dirname} put in, the trimmed environment given as JSON, stdio, from
// `/` — and drives it with the official TypeScript SDK client named as Desktop names itself.
// Usage: node extension-desktop.mjs '{"command": …, "args": […], "env": {…}}'
// Prints a JSON summary last; exits non-zero on any error result.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const fail = (msg) => {
  console.error(msg);
  process.exit(1);
};

const entry = JSON.parse(process.argv[2]);
const transport = new StdioClientTransport({
  command: entry.command,
  args: entry.args,
  env: entry.env,
  cwd: "/",
  stderr: "inherit",
});
const client = new Client({ name: "claude-ai", version: "0.14.1" });
await client.connect(transport);

const { tools } = await client.listTools();
const { prompts } = await client.listPrompts();
const call = async (name, args) => {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) fail(`${name} returned an error: ${JSON.stringify(result.content)}`);
  return result.structuredContent;
};
const value = { method: "JWT", library: "jose", rationale: "stateless auth" };
const set = await call("memory_set", { key: "proj-x/auth-approach", value });
const got = await call("memory_get", { keys: ["proj-x/auth-approach"] });
const handoff = await call("handoff_create", {
  title: "Add JWT auth",
  summary: "Stateless auth with refresh tokens.",
});
await client.close();

console.log(
  JSON.stringify({
    server: client.getServerVersion(),
    tools: tools.map((t) => ({ name: t.name, description: t.description })),
    prompts: prompts.map((p) => p.name),
    set,
    got,
    handoff,
  }),
);
