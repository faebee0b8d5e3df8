// `npm run size`: what each public entry costs a user: bundled (dependencies included, since
// valibot ships with us), minified, then gzip -9 and brotli. Fails over budget. Also shows our
// own code alone (dependencies external), and what typical single imports cost after
// tree-shaking. Entries that do not exist yet are skipped.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { root } from "./run-lib.mjs";

/**
 * [entry, gzip target, gzip guard] in bytes. The target is the goal; the guard fails the
 * script and stops regressions. Both entries are over their targets (see README "Performance and
 * size": the storage limits, the raw-bytes path, the retry policy and the sync HMAC grew them in
 * the hardening pass), so each guard sits just above the size measured after it.
 */
export const budgets = [
  ["src/index.ts", 10 * 1024, 23 * 1024],
  ["src/event/envelope.ts", 5 * 1024, 5.75 * 1024],
];

/** What a user's bundle costs for one import from the core, after tree-shaking. */
export const imports = [
  "parseEnvelope",
  "encodeEnvelope",
  "verifyWebhook",
  "parseEndpointConfig",
  "Endpoint",
  "createBridge",
];

async function measure(entry, external, stdin) {
  const result = await esbuild.build({
    absWorkingDir: root,
    ...(stdin
      ? { stdin: { contents: stdin, resolveDir: root, loader: "ts" } }
      : { entryPoints: [entry] }),
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
for (const [entry, target, guard] of budgets) {
  if (!existsSync(join(root, entry))) {
    console.warn(`size: skipping ${entry} (does not exist yet)`);
    continue;
  }
  measured++;
  const all = await measure(entry, false);
  const own = await measure(entry, true);
  const verdict =
    all.gzip > guard ? "OVER GUARD: a regression" : all.gzip > target ? "over target" : "ok";
  over ||= all.gzip > guard;
  console.log(
    `${entry}: ${kb(all.minified)} min, ${kb(all.gzip)} gzip (target ${kb(target)}: ${verdict}), ` +
      `${kb(all.brotli)} brotli; own code ${kb(own.minified)} min, ${kb(own.gzip)} gzip`,
  );
  if (all.gzip > target) {
    console.log("  largest inputs (minified bytes):");
    for (const [file, bytes] of all.largest)
      console.log(`    ${String(bytes).padStart(7)}  ${file}`);
  }
}
if (existsSync(join(root, "src/index.ts"))) {
  console.log("single imports from src/index.ts (bundled, minified, gzip -9):");
  for (const name of imports) {
    const one = await measure(null, false, `export { ${name} } from "./src/index.ts";`);
    console.log(
      `  ${name.padEnd(20)} ${kb(one.minified).padStart(9)} min ${kb(one.gzip).padStart(9)} gzip`,
    );
  }
}
if (measured === 0) console.warn("size: nothing measured");
process.exit(over ? 1 : 0);
