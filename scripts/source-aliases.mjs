// `registry-relay` and each of its subpaths → the source file it is built from, as jsr.json maps
// them (".": src/index.ts), for esbuild's `alias`: what runs this repository's own code as the
// package (the admin console's build, the sidecar example started from source).
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** @returns {Record<string, string>} specifier → absolute source path */
export function sourceAliases() {
  const { exports } = JSON.parse(readFileSync(join(root, "jsr.json"), "utf8"));
  return Object.fromEntries(
    Object.entries(exports).map(([subpath, file]) => [
      `registry-relay${subpath.slice(1)}`,
      join(root, file),
    ]),
  );
}
