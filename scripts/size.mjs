// `npm run size`: what the package costs a user, measured as a user gets it. It packs the package
// (`npm pack`, which builds), installs the tarball in a fresh consumer project in the OS temp dir,
// bundles single imports with esbuild and with rollup (+ terser), both minified for the browser,
// and prints one table of gzip -9 sizes against the budgets. Then the Worker, as wrangler would
// deploy it (`wrangler deploy --dry-run --outdir`), against the Workers script size limits.
// Exits 1 if an import is over its budget with either bundler; `npm test` runs it (runner "size"),
// counting each budget as a test (`N passed, N failed`).
// Usage: npm run size [-- --json]   (--json: the table as JSON on the last line, for scripts)
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import nodeResolve from "@rollup/plugin-node-resolve";
import terser from "@rollup/plugin-terser";
import * as esbuild from "esbuild";
import { rollup } from "rollup";
import { bin, run } from "./run-lib.mjs";

const KB = 1024;
/**
 * [label, module text, gzip budget or undefined]. Budgets are the issue's: what a receiver that
 * only parses, only verifies, or runs one endpoint should pay. Lines without a budget are shown
 * for information.
 */
const cases = [
  ["parseEnvelope", `export { parseEnvelope } from "registry-relay";`, 3.0 * KB],
  ["verifyWebhook", `export { verifyWebhook } from "registry-relay";`, 1.8 * KB],
  [
    "signWebhook + verifyWebhook",
    `export { signWebhook, verifyWebhook } from "registry-relay";`,
    2.2 * KB,
  ],
  ["Endpoint", `export { Endpoint } from "registry-relay";`, 9 * KB],
  ["every export of registry-relay", `export * from "registry-relay";`, 15 * KB],
  [
    "the core with /config, /bridge, /webhooks",
    `export * from "registry-relay"; export * from "registry-relay/config"; ` +
      `export * from "registry-relay/bridge"; export * from "registry-relay/webhooks";`,
  ],
  ["encodeEnvelope", `export { encodeEnvelope } from "registry-relay";`],
  ["parseEndpointConfig", `export { parseEndpointConfig } from "registry-relay/config";`],
  [
    "Endpoint from a config file",
    `export { Endpoint } from "registry-relay"; export { parseEndpointConfig } from "registry-relay/config";`,
  ],
  ["createBridge", `export { createBridge } from "registry-relay/bridge";`],
  [
    "Endpoint with every output format",
    `export { Endpoint } from "registry-relay"; export { outputFormats } from "registry-relay/formats";`,
  ],
  ["registry-relay/envelope, all", `export * from "registry-relay/envelope";`],
  ["registry-relay/webhooks, all", `export * from "registry-relay/webhooks";`],
  ["registry-relay/schema, all (valibot)", `export * from "registry-relay/schema";`],
  ["registry-relay/hono, all (hono external)", `export * from "registry-relay/hono";`],
  ["normalizeHarbor", `export { normalizeHarbor } from "registry-relay/formats";`],
  [
    "normalizeNotification (every format)",
    `export { normalizeNotification } from "registry-relay/formats";`,
  ],
  ["toCloudEvent", `export { toCloudEvent } from "registry-relay/formats";`],
  ["toCDEvent", `export { toCDEvent } from "registry-relay/formats";`],
  ["registry-relay/formats, all", `export * from "registry-relay/formats";`],
];

/** Workers script size limits, gzip-compressed (developers.cloudflare.com/workers/platform/limits). */
const workerLimits = [
  ["Workers Free", 3 * KB * KB],
  ["Workers Paid", 10 * KB * KB],
];

const json = process.argv.includes("--json");
const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;
const kb = (bytes) => `${(bytes / KB).toFixed(2)} KB`;

async function must(command, args, options) {
  const result = await run(command, args, { quiet: true, ...options });
  if (result.code !== 0) {
    console.error(`size: ${command} ${args.join(" ")} failed:\n${result.output}`);
    process.exit(1);
  }
  return result;
}

/** Packs the package and installs the tarball (and its dependencies) in a new project. */
async function consumerProject() {
  const dir = await mkdtemp(join(tmpdir(), "registry-relay-size-"));
  await must("npm", ["pack", "--silent", "--pack-destination", dir], { log: "size-pack.log" });
  const tarball = (await readdir(dir)).find((name) => name.endsWith(".tgz"));
  await writeFile(
    join(dir, "package.json"),
    JSON.stringify({ name: "size-consumer", private: true, type: "module" }),
  );
  await must(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", `./${tarball}`],
    { cwd: dir, log: "size-install.log" },
  );
  return dir;
}

async function withEsbuild(dir, file) {
  const result = await esbuild.build({
    absWorkingDir: dir,
    entryPoints: [file],
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    external: ["hono", "hono/*"],
    logLevel: "error",
  });
  return gzip(result.outputFiles[0].contents);
}

async function withRollup(dir, file) {
  const bundle = await rollup({
    input: join(dir, file),
    external: (id) => id === "hono" || id.startsWith("hono/"),
    plugins: [nodeResolve({ browser: true, rootDir: dir }), terser({ module: true })],
    onwarn: (warning, warn) => warning.code !== "EMPTY_BUNDLE" && warn(warning),
  });
  const { output } = await bundle.generate({ format: "es" });
  await bundle.close();
  return gzip(Buffer.from(output[0].code));
}

/** The Worker as `wrangler deploy --dry-run` bundles it: its size, raw and gzip. */
async function workerBundle() {
  const outdir = await mkdtemp(join(tmpdir(), "registry-relay-worker-"));
  await must(bin("wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
    log: "size-wrangler.log",
    env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
  });
  const files = (await readdir(outdir)).filter((name) => name.endsWith(".js"));
  let raw = 0;
  let compressed = 0;
  for (const name of files) {
    const bytes = await readFile(join(outdir, name));
    raw += (await stat(join(outdir, name))).size;
    compressed += gzip(bytes);
  }
  await rm(outdir, { recursive: true, force: true });
  return { raw, gzip: compressed };
}

const dir = await consumerProject();
const rows = [];
let over = false;
try {
  for (const [index, [label, text, budget]] of cases.entries()) {
    const file = `case-${index}.js`;
    await writeFile(join(dir, file), `${text}\n`);
    const sizes = { esbuild: await withEsbuild(dir, file), rollup: await withRollup(dir, file) };
    const worst = Math.max(sizes.esbuild, sizes.rollup);
    const verdict = budget === undefined ? "" : worst <= budget ? "ok" : "OVER BUDGET";
    over ||= verdict === "OVER BUDGET";
    rows.push({ label, ...sizes, budget, verdict });
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const worker = await workerBundle();

const pad = (text, width) => String(text).padEnd(width);
console.log(
  "registry-relay as a consumer bundles it: npm pack, npm install, minified for the browser, gzip -9",
);
console.log(
  `${pad("import", 42)}${pad("esbuild", 11)}${pad("rollup", 11)}${pad("budget", 11)}verdict`,
);
for (const row of rows) {
  console.log(
    `${pad(row.label, 42)}${pad(kb(row.esbuild), 11)}${pad(kb(row.rollup), 11)}` +
      `${pad(row.budget === undefined ? "" : kb(row.budget), 11)}${row.verdict}`,
  );
}
console.log(
  `worker (wrangler deploy --dry-run): ${kb(worker.raw)} raw, ${kb(worker.gzip)} gzip; ` +
    workerLimits
      .map(
        ([plan, limit]) => `${((worker.gzip / limit) * 100).toFixed(1)}% of ${plan}'s ${kb(limit)}`,
      )
      .join(", "),
);
const budgeted = rows.filter((row) => row.budget !== undefined);
const failed = budgeted.filter((row) => row.verdict !== "ok").length;
console.log("reproduce: npm run size");
console.log(`${budgeted.length - failed} passed, ${failed} failed`);
if (json) console.log(JSON.stringify({ rows, worker }));
process.exit(over ? 1 : 0);
