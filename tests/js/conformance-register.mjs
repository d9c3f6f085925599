// `node --import ./conformance-register.mjs …`: lets @modelcontextprotocol/conformance run on
// Node 20, which has no `fs.globSync` (added in Node 22). Only that package's `fs` import is
// redirected, to a module that re-exports node:fs plus a globSync built on the `glob` package.
import { register } from "node:module";

register("./conformance-loader.mjs", import.meta.url);
