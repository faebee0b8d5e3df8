#!/usr/bin/env node
// Runs the sidecar from this repository's source: Node 20 cannot run the core's TypeScript, so
// esbuild bundles main.mjs with "registry-relay" (and its subpaths) mapped to ../../src, then it runs in
// this process (signals reach it directly). With the published package, run `node main.mjs`.
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { sourceAliases } from "../../scripts/source-aliases.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const outdir = join(root, ".tmp", "examples");
mkdirSync(outdir, { recursive: true });
// One bundle per process: two sidecars started at once must not overwrite each other's file.
const outfile = join(outdir, `node-registry-sidecar-${process.pid}.mjs`);

await build({
  entryPoints: [join(here, "main.mjs")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  alias: sourceAliases(),
  logLevel: "warning",
});
const removeBundle = () => rmSync(outfile, { force: true });
process.on("exit", removeBundle);
await import(pathToFileURL(outfile).href);
removeBundle(); // loaded (and listening) now: the file is no longer needed
