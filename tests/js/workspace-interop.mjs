// Drives `tandem mcp workspace` with the official TypeScript SDK client: every tool once,
// structuredContent validated by the SDK against each outputSchema. Prints a JSON summary.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const fail = (msg) => {
  console.error(msg);
  process.exit(1);
};

// TANDEM_LAUNCH (JSON {command, args}) starts tandem another way, e.g. tandem.exe under Wine.
const launch = process.env.TANDEM_LAUNCH
  ? JSON.parse(process.env.TANDEM_LAUNCH)
  : { command: process.env.TANDEM_BIN, args: [] };
const transport = new StdioClientTransport({
  command: launch.command,
  args: [...launch.args, "mcp", "workspace"],
  env: process.env,
  stderr: "inherit",
});
const client = new Client({ name: "sdk-interop", version: "1.32.2" });
await client.connect(transport);
const { tools } = await client.listTools();
for (const tool of tools) {
  if (!tool.outputSchema) fail(`${tool.name} has no outputSchema`);
  if (!tool.annotations) fail(`${tool.name} has no annotations`);
}

const call = async (name, args) => {
  const result = await client.callTool({ name, arguments: args });
  if (result.isError) fail(`${name} returned an error: ${JSON.stringify(result.content)}`);
  if (!result.structuredContent) fail(`${name} returned no structuredContent`);
  return result.structuredContent;
};

const out = {};
out.write = await call("write_file", { path: "plans/a.md", content: "# A\nalpha\nbeta\n" });
out.read = await call("read_text_file", { path: "plans/a.md", tail: 1 });
out.multi = await call("read_multiple_files", { paths: ["plans/a.md", "missing.md"] });
out.edit = await call("edit_file", { path: "plans/a.md", edits: [{ oldText: "beta", newText: "gamma" }], dryRun: true });
out.mkdir = await call("create_directory", { path: "notes" });
out.move = await call("move_file", { source: "plans/a.md", destination: "notes/a.md" });
out.list = await call("list_directory", { path: "notes" });
out.tree = await call("directory_tree", { path: ".", maxDepth: 2 });
out.search = await call("search_files", { path: ".", pattern: "*.md" });
out.info = await call("get_file_info", { path: "notes/a.md" });
out.allowed = await call("list_allowed_directories", {});
out.grep = await call("grep", { pattern: "alpha" });
out.created = await call("handoff_create", {
  title: "Interop plan",
  summary: "From the TypeScript SDK",
  tasks: ["one", "two"],
});
out.handoffs = await call("handoff_list", {});
out.latest = await call("handoff_read", { id: "latest" });
out.updated = await call("handoff_update", { id: out.created.id, status: "claimed", note: "on it" });
const denied = await client.callTool({ name: "read_text_file", arguments: { path: "/etc/passwd" } });
out.deniedText = denied.isError ? denied.content[0].text : "NOT DENIED";
out.prompts = (await client.listPrompts()).prompts.map((p) => p.name).sort();
out.tools = tools.map((t) => t.name).sort();
await client.close();
console.log(JSON.stringify(out));
