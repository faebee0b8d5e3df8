// Bundles worker/index.ts into one ES module for the Miniflare API (the durability test and
// `npm run bench:worker`), with the conditions wrangler uses for workerd.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Writes the Worker bundle to `outfile`.
 * @param {string} outfile
 * @param {{ logLevel?: "error" | "warning" }} [options]
 * @example await bundleWorker(join(tmp, "worker.js"));
 */
export async function bundleWorker(outfile, { logLevel = "warning" } = {}) {
  await build({
    entryPoints: [join(root, "worker/index.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*"],
    outfile,
    logLevel,
  });
}
