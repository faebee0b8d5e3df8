// The core tests (test/core/*.test.ts) in headless Chromium, without vitest browser mode:
// esbuild bundles each test file with browser shims for node:test
// (test/support/browser-node-test.ts) and node:assert/strict (test/support/browser-assert.ts),
// playwright-core drives the system Chromium (never a downloaded one), and the bundles are
// served on the test server's own origin (intercepted by the page, so no CORS or private-network
// rules apply to the tests' fetches). A fresh browser context and page per file.
// Usage: node scripts/run-browser.mjs [test/core/x.test.ts ...]   (starts its own test server)
import { existsSync } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { isMain, outcome, root, runStandalone, tmp } from "./run-lib.mjs";

export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const fileTimeoutMs = 120_000;
// Files one at a time by default: on a loaded 2-core machine side-by-side pages were no faster
// and made timing-sensitive tests (1 s HTTP timeouts) flaky. RELAY_BROWSER_CONCURRENCY=N to change.
const pageConcurrency = Number(process.env.RELAY_BROWSER_CONCURRENCY ?? 1);

async function coreTestFiles() {
  const dir = join(root, "test/core");
  return (await readdir(dir))
    .filter((n) => n.endsWith(".test.ts"))
    .sort()
    .map((n) => `test/core/${n}`);
}

/** Bundles one test file into an ES module exporting `run` (or returns the build error). */
async function bundle(esbuild, file, serverUrl) {
  const shims = {
    "node:test": join(root, "test/support/browser-node-test.ts"),
    "node:assert/strict": join(root, "test/support/browser-assert.ts"),
    "node:assert": join(root, "test/support/browser-assert.ts"),
  };
  const runner = JSON.stringify(shims["node:test"]);
  try {
    const result = await esbuild.build({
      stdin: {
        // The shim is imported first, so the test file's describe/it calls land in it.
        contents: `export { run } from ${runner};\nimport ${JSON.stringify(`./${file}`)};\n`,
        resolveDir: root,
        sourcefile: `${file}.entry.ts`,
        loader: "ts",
      },
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      target: "es2022",
      sourcemap: "inline",
      logLevel: "silent",
      // package.json says "sideEffects": false, which would drop the bare test-file import.
      ignoreAnnotations: true,
      define: { __RELAY_TEST_SERVER__: JSON.stringify(serverUrl) },
      plugins: [
        {
          name: "node-shims",
          setup(build) {
            build.onResolve({ filter: /^node:(test|assert|assert\/strict)$/ }, (args) => ({
              path: shims[args.path],
            }));
          },
        },
      ],
    });
    return { code: result.outputFiles[0].text };
  } catch (error) {
    const messages = error.errors?.map(
      (e) => `${e.location?.file ?? ""}:${e.location?.line ?? ""} ${e.text}`,
    );
    return { error: `bundling failed: ${messages?.join("\n") ?? error.message}` };
  }
}

export async function runBrowser({ serverUrl, files }) {
  const started = Date.now();
  if (!existsSync(chromiumPath)) {
    return outcome("chromium", {
      crashed: `${chromiumPath} not found (apt-get install chromium, or set CHROMIUM_PATH)`,
    });
  }
  const esbuild = await import("esbuild");
  const { chromium } = await import("playwright-core");
  const testFiles = files?.length
    ? files.map((f) => relative(root, join(root, f)))
    : await coreTestFiles();
  const bundles = new Map(
    await Promise.all(testFiles.map(async (f) => [f, await bundle(esbuild, f, serverUrl)])),
  );

  const log = [];
  const results = [];
  let crashed = "";
  let browser;
  try {
    // launch() runs Chromium on a fresh temporary profile that Playwright deletes afterwards.
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: chromiumArgs,
    });
    const base = `${serverUrl}/__browser__/`;
    const serve = (route) => {
      const path = decodeURIComponent(
        new URL(route.request().url()).pathname.slice("/__browser__/".length),
      );
      if (path === "index.html") {
        return route.fulfill({
          contentType: "text/html",
          body: "<!doctype html><title>core tests</title>",
        });
      }
      const built = bundles.get(path.replace(/\.js$/, ""));
      if (!built?.code) return route.fulfill({ status: 404, body: "no such bundle" });
      return route.fulfill({ contentType: "text/javascript", body: built.code });
    };
    const runFile = async (file) => {
      const built = bundles.get(file);
      if (built.error)
        return [{ file, name: "<bundle>", status: "fail", ms: 0, error: built.error }];
      const fail = (name, error) => ({ file, name, status: "fail", ms: 0, error });
      // One browser context per file: its own cookies, cache and connection pool (Chromium
      // allows 6 connections per host per context, which files running side by side would
      // otherwise share and queue on).
      const context = await browser.newContext();
      await context.route(`${base}**`, serve);
      const page = await context.newPage();
      const pageErrors = [];
      page.on("console", (m) => log.push(`[${file}] console.${m.type()}: ${m.text()}`));
      page.on("pageerror", (e) => {
        pageErrors.push(e);
        log.push(`[${file}] pageerror: ${e.stack ?? e.message}`);
      });
      let timer;
      try {
        await page.goto(`${base}index.html`);
        const fileResults = await Promise.race([
          page.evaluate(async (url) => (await import(url)).run(), `${base}${file}.js`),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`${file} did not finish in ${fileTimeoutMs} ms`)),
              fileTimeoutMs,
            );
          }),
        ]);
        const out = fileResults.map((r) => ({ file, ...r }));
        if (out.length === 0) out.push(fail("<file>", "no tests registered"));
        for (const e of pageErrors) out.push(fail("<uncaught>", e.stack ?? e.message));
        return out;
      } catch (error) {
        return [fail("<file>", error.stack ?? String(error))];
      } finally {
        clearTimeout(timer);
        await context.close().catch(() => {});
      }
    };
    // With RELAY_BROWSER_CONCURRENCY > 1, files run side by side (one context each); results
    // are reported in file order either way.
    const perFile = new Array(testFiles.length);
    let next = 0;
    const worker = async () => {
      while (next < testFiles.length) {
        const index = next++;
        perFile[index] = await runFile(testFiles[index]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(pageConcurrency, testFiles.length) }, worker));
    results.push(...perFile.flat());
  } catch (error) {
    crashed = `chromium: ${error.message}`;
  } finally {
    await browser?.close().catch(() => {});
  }

  for (const r of results) {
    const mark = r.status === "pass" ? "✓" : r.status === "skip" ? "-" : "✗";
    console.log(`  ${mark} ${r.file} > ${r.name} (${r.ms} ms)`);
    if (r.status === "fail") console.log(`${r.error}`.replace(/^/gm, "      "));
  }
  await writeFile(join(tmp, "chromium.log"), `${log.join("\n")}\n`).catch(() => {});
  if (results.some((r) => r.status === "fail")) console.log("  (page console: .tmp/chromium.log)");
  const count = (status) => results.filter((r) => r.status === status).length;
  if (!crashed && results.length === 0) crashed = "no tests found";
  return outcome("chromium", {
    passed: count("pass"),
    failed: count("fail"),
    skipped: count("skip"),
    crashed,
    ms: Date.now() - started,
  });
}

if (isMain(import.meta.url)) {
  await runStandalone((options) => runBrowser({ ...options, files: process.argv.slice(2) }));
}
