// Loads the core's TypeScript modules into this plain Node process (Node 20 cannot import .ts):
// esbuild bundles them into one ESM file in the run's temp dir, then we import that file.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { repoRoot } from "./relay.mjs";

/** @returns {Promise<{ verifyWebhook: Function, WebhookVerificationError: Function }>} */
export async function loadCoreWebhooks(tmpDir) {
  const result = await build({
    entryPoints: [join(repoRoot, "src", "webhooks", "webhooks.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const file = join(tmpDir, "core-webhooks.mjs");
  await writeFile(file, result.outputFiles[0].text);
  return import(pathToFileURL(file).href);
}
