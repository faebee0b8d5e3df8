// `npm run build`: src/ into dist/lib, one JavaScript module (with its source map and .d.ts) per
// source module, as tsc writes them (tsconfig.build.json). Not bundled: every bundler (esbuild,
// rollup, webpack, Vite) then drops the modules a user does not import, helped by
// `"sideEffects": false` and the `/* @__PURE__ */` marks tsc keeps. Dependencies (valibot, hono)
// are imported, never copied in. Checks that every entry of package.json "exports" was written.
import { existsSync } from "node:fs";
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { bin, root, run } from "./run-lib.mjs";

const outdir = join(root, "dist/lib");
const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));

/** The files package.json "exports" points at, e.g. ["./dist/lib/index.js", ...]. */
export const exportedFiles = Object.values(pkg.exports).flatMap((target) =>
  typeof target === "string" ? [] : Object.values(target),
);

await rm(outdir, { recursive: true, force: true });
const tsc = await run(bin("tsc"), ["-p", "tsconfig.build.json"], { log: "build-tsc.log" });
if (tsc.code !== 0) {
  console.error(
    `build: tsc -p tsconfig.build.json failed (log: .tmp/build-tsc.log)\n${tsc.output}`,
  );
  process.exit(1);
}

// tsc keeps the sources' `./x.ts` specifiers in declarations (rewriteRelativeImportExtensions only
// rewrites JavaScript); consumers resolve `./x.js` to `./x.d.ts` under node16 and bundler alike.
const relativeTs = /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']*?)\.(m?)ts(["'])/g;
let modules = 0;
let bytes = 0;
for (const name of await readdir(outdir, { recursive: true })) {
  const path = join(outdir, name);
  if (name.endsWith(".js")) {
    modules++;
    bytes += (await stat(path)).size;
  }
  if (!name.endsWith(".d.ts")) continue;
  const text = await readFile(path, "utf8");
  const rewritten = text.replace(relativeTs, "$1$2.$3js$4");
  if (rewritten !== text) await writeFile(path, rewritten);
}

const missing = exportedFiles.filter((file) => !existsSync(join(root, file)));
if (missing.length > 0) {
  console.error(`build: package.json exports files that were not written: ${missing.join(", ")}`);
  process.exit(1);
}
console.log(
  `build: ${modules} modules (${(bytes / 1024).toFixed(1)} KB) + .d.ts in ${relative(root, outdir)}, ` +
    `${exportedFiles.filter((f) => f.endsWith(".js")).length} entry points`,
);
