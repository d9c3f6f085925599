// Plays one Claude Code session as Claude Code runs it: this process is the client, it starts
// `tandem mcp memory` as its child over stdio and runs the prompt hook through a shell, with
// the JSON Claude Code sends. Another session (a second process running this script with
// "other") writes in between. Prints what the hook added to each prompt, as JSON, last.
import { spawnSync } from "node:child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const bin = process.env.TANDEM_BIN;
const fail = (msg) => {
  console.error(msg);
  process.exit(1);
};

async function connect() {
  const transport = new StdioClientTransport({
    command: bin,
    args: ["mcp", "memory"],
    env: process.env,
    stderr: "inherit",
  });
  const client = new Client({ name: "claude-code", version: "2.1.332" });
  await client.connect(transport);
  return client;
}

async function set(client, key, value) {
  const result = await client.callTool({ name: "memory_set", arguments: { key, value } });
  if (result.isError) fail(`memory_set ${key}: ${JSON.stringify(result.content)}`);
}

if (process.argv[2] === "other") {
  const client = await connect();
  await set(client, "proj/theirs", { from: "another session" });
  await client.close();
  process.exit(0);
}

const session = `session-${process.pid}`;
const hook = (event, name, extra) => {
  const input = JSON.stringify({
    session_id: session,
    transcript_path: `/tmp/${session}.jsonl`,
    cwd: process.cwd(),
    hook_event_name: name,
    ...extra,
  });
  const ran = spawnSync("sh", ["-c", `"${bin}" hook ${event}`], { input, env: process.env });
  if (ran.status !== 0) fail(`hook ${event} exited ${ran.status}: ${ran.stderr}`);
  return ran.stdout.toString();
};
const context = (out) =>
  out.trim() ? JSON.parse(out).hookSpecificOutput.additionalContext : "";

hook("session-start", "SessionStart", { source: "startup" });
const client = await connect();
await set(client, "proj/own", { from: "this session" });
const other = spawnSync(process.execPath, [process.argv[1], "other"], {
  env: process.env,
  stdio: "inherit",
});
if (other.status !== 0) fail("the other session failed");
const second = context(hook("prompt", "UserPromptSubmit", { prompt: "go on" }));
await set(client, "proj/own", { from: "this session, again" });
const third = context(hook("prompt", "UserPromptSubmit", { prompt: "and on" }));
await client.close();
console.log(JSON.stringify({ second, third }));
