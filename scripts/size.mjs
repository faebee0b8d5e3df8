// `npm run size`: what each public entry costs a user: bundled (dependencies included, since
// valibot ships with us), minified, then gzip -9 and brotli. Fails over budget. Also shows our
// own code alone (dependencies external). Entries that do not exist yet are skipped.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { root } from "./run-lib.mjs";

/** [entry, gzip budget in bytes]: the core, and the parse-only entry. */
export const budgets = [
  ["src/index.ts", 10 * 1024],
  ["src/envelope.ts", 5 * 1024],
];

async function measure(entry, external) {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    packages: external ? "external" : undefined,
    logLevel: "warning",
    metafile: true,
  });
  const code = result.outputFiles[0].contents;
  const inputs = Object.values(result.metafile.outputs)[0]?.inputs ?? {};
  return {
    largest: Object.entries(inputs)
      .map(([file, { bytesInOutput }]) => [file, bytesInOutput])
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8),
    minified: code.length,
    gzip: gzipSync(code, { level: 9 }).length,
    brotli: brotliCompressSync(code, {
      params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY },
    }).length,
  };
}

const kb = (bytes) => `${(bytes / 1024).toFixed(2)} KB`;
let over = false;
let measured = 0;
for (const [entry, budget] of budgets) {
  if (!existsSync(join(root, entry))) {
    console.warn(`size: skipping ${entry} (does not exist yet)`);
    continue;
  }
  measured++;
  const all = await measure(entry, false);
  const own = await measure(entry, true);
  const verdict = all.gzip > budget ? "OVER BUDGET" : "ok";
  over ||= all.gzip > budget;
  console.log(
    `${entry}: ${kb(all.minified)} min, ${kb(all.gzip)} gzip (budget ${kb(budget)}: ${verdict}), ` +
      `${kb(all.brotli)} brotli; own code ${kb(own.minified)} min, ${kb(own.gzip)} gzip`,
  );
  if (all.gzip > budget) {
    console.log("  largest inputs (minified bytes):");
    for (const [file, bytes] of all.largest)
      console.log(`    ${String(bytes).padStart(7)}  ${file}`);
  }
}
if (measured === 0) console.warn("size: nothing measured");
process.exit(over ? 1 : 0);
