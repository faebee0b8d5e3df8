// Builds the admin console into examples/browser-admin/dist/ (index.html, styles.css, app.js)
// with esbuild, importing the core from source as `registry-relay`, and measures the console's
// JS next to the core's (bundled, minified, gzip -9).
// Usage: node examples/browser-admin/build.mjs
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { sourceAliases } from "../../scripts/source-aliases.mjs";

export const consoleDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(consoleDir, "../..");
export const distDir = join(consoleDir, "dist");

/** `registry-relay` and its subpaths → the core's source, so the console uses this repo's code. */
const alias = sourceAliases();

async function bundle(entry, { platform, sourcemap }) {
  const result = await esbuild.build({
    metafile: true,
    entryPoints: [entry],
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    platform,
    target: "es2022",
    alias,
    sourcemap,
    outdir: distDir,
    legalComments: "none",
    logLevel: "warning",
  });
  const js = result.outputFiles.find((file) => file.path.endsWith(".js"));
  const output = Object.values(result.metafile.outputs).find((out) => out.entryPoint);
  // Minified bytes that come from the core's modules (src/), for "how much of the core is used".
  const coreBytes = Object.entries(output?.inputs ?? {})
    .filter(([path]) => /^(\.\.\/)*src\//.test(path.replaceAll("\\", "/")))
    .reduce((total, [, input]) => total + input.bytesInOutput, 0);
  const valibot = Object.keys(output?.inputs ?? {}).some((path) => path.includes("valibot"));
  return { files: result.outputFiles, js: js.contents, coreBytes, valibot };
}

function measure(code) {
  return { minified: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

/**
 * Builds the console into `outdir` and returns the sizes of its JS and of the core.
 * @param {{ outdir?: string }} [options]
 * @returns {Promise<{ outdir: string, console: { minified: number, gzip: number, coreBytes: number,
 *   valibot: boolean },
 *   core: { minified: number, gzip: number } }>}
 */
export async function buildConsole({ outdir = distDir } = {}) {
  const app = await bundle(join(consoleDir, "src/main.ts"), {
    platform: "browser",
    sourcemap: "linked",
  });
  // The core measured the way `npm run size` does: every export, dependencies included.
  const core = await bundle(join(repoRoot, "src/index.ts"), {
    platform: "neutral",
    sourcemap: false,
  });
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  for (const file of app.files) {
    const name = file.path.endsWith(".map") ? "app.js.map" : "app.js";
    await writeFile(join(outdir, name), file.contents);
  }
  await copyFile(join(consoleDir, "index.html"), join(outdir, "index.html"));
  await copyFile(join(consoleDir, "styles.css"), join(outdir, "styles.css"));
  return {
    outdir,
    console: { ...measure(app.js), coreBytes: app.coreBytes, valibot: app.valibot },
    core: measure(core.js),
  };
}

/** One line per measured bundle, e.g. for build output and test logs. */
export function formatSizes(result) {
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
  const line = (label, size) =>
    `${label.padEnd(32)} ${kb(size.minified).padStart(9)} min  ${kb(size.gzip).padStart(8)} min+gzip`;
  return [
    line("admin console JS (app.js)", result.console),
    line("core (src/index.ts, all exports)", result.core),
    `(the console bundles ${kb(result.console.coreBytes)} of minified core code; ` +
      `valibot ${result.console.valibot ? "included" : "not included"})`,
  ].join("\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await buildConsole();
  console.log(`built ${result.outdir}`);
  console.log(formatSizes(result));
}
