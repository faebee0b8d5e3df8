// `npm run build`: the package's entry points as ESM into dist/lib (matching package.json
// "exports"), plus .d.ts files from tsc (tsconfig.build.json). Dependencies (hono, valibot) stay
// external; code shared by several entries goes into one chunk, so `instanceof` works across
// `registry-relay` and `registry-relay/envelope`. Entries that do not exist yet are skipped.
import { existsSync } from "node:fs";
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import * as esbuild from "esbuild";
import { bin, root, run } from "./run-lib.mjs";

export const entries = ["src/index.ts", "src/event/envelope.ts", "src/hono/index.ts"];
const outdir = join(root, "dist/lib");

const present = entries.filter((entry) => existsSync(join(root, entry)));
for (const entry of entries.filter((e) => !present.includes(e))) {
  console.warn(`build: skipping ${entry} (does not exist yet)`);
}
if (present.length === 0) {
  console.error("build: no entry point exists");
  process.exit(1);
}

await rm(outdir, { recursive: true, force: true });
const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: present,
  outdir,
  outbase: "src",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  packages: "external",
  chunkNames: "chunks/[name]-[hash]",
  sourcemap: true,
  metafile: true,
  logLevel: "warning",
});

const types = await run(bin("tsc"), ["-p", "tsconfig.build.json"], { log: "build-tsc.log" });
if (types.code !== 0) {
  console.error("build: tsc -p tsconfig.build.json failed");
  process.exit(1);
}

// tsc keeps the sources' `./x.ts` specifiers in declarations (rewriteRelativeImportExtensions only
// rewrites JavaScript); consumers resolve `./x.js` to `./x.d.ts` under node16 and bundler alike.
const relativeTs = /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*?)\.(m?)ts(["'])/g;
for (const name of await readdir(outdir, { recursive: true })) {
  if (!name.endsWith(".d.ts")) continue;
  const path = join(outdir, name);
  const text = await readFile(path, "utf8");
  const rewritten = text.replace(relativeTs, "$1$2.$3js$4");
  if (rewritten !== text) await writeFile(path, rewritten);
}

for (const file of Object.keys(result.metafile.outputs).filter((f) => f.endsWith(".js"))) {
  const { size } = await stat(join(root, file));
  console.log(`  ${relative(root, join(root, file))}  ${size} B`);
}
for (const entry of present) {
  const dts = join(outdir, relative("src", entry).replace(/\.ts$/, ".d.ts"));
  if (!existsSync(dts)) {
    console.error(`build: ${relative(root, dts)} was not emitted`);
    process.exit(1);
  }
}
console.log(
  `build: ${present.length} entr${present.length === 1 ? "y" : "ies"} + .d.ts in dist/lib`,
);
