// node:fs as it is, plus `globSync` (Node 22+) on top of the `glob` package.
export * from "node:fs";
import fs from "node:fs";
import { globSync as globSyncImpl } from "glob";

export function globSync(pattern, options = {}) {
  return globSyncImpl(pattern, { cwd: options.cwd, withFileTypes: options.withFileTypes });
}

export default { ...fs, globSync };
