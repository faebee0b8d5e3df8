import { fileURLToPath } from "node:url";
import { playwright } from "@vitest/browser-playwright";
import { defineProject } from "vitest/config";
import { chromiumArgs, chromiumPath } from "../support/chromium.mjs";
import { sharedTestServer } from "../support/shared-server.mjs";

// The runtime-neutral core tests, unmodified, in headless Chromium (Vitest browser mode). Always
// the system Chromium (Debian's /usr/bin/chromium, or CHROMIUM_PATH): never a downloaded one.
// `node:test` maps to vitest as in Node; `node:assert/strict` to the npm `assert` package (Node's
// assert for browsers). The page fetches the shared test server cross-origin (it sends CORS
// headers; both origins are loopback, so Chromium's private-network checks do not apply).
const server = await sharedTestServer();
const shim = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineProject({
  define: { __RELAY_TEST_SERVER__: JSON.stringify(server.url) },
  resolve: {
    alias: {
      "node:test": shim("../support/node-test.ts"),
      "node:assert/strict": shim("./assert-strict.ts"),
    },
  },
  // `assert` and its `util` read a few `process` fields that browsers lack; pre-bundling replaces
  // them (no `process` global is added, so the core code under test sees a plain browser).
  optimizeDeps: {
    rolldownOptions: {
      transform: {
        define: {
          "process.env.NODE_DEBUG": "undefined",
          "process.stderr": "undefined",
          "process.emitWarning": "undefined",
        },
      },
    },
  },
  test: {
    name: "core-browser",
    include: ["test/core/**/*.test.ts"],
    // One file at a time: on 2 cores side-by-side pages were slower, and timing tests need slack.
    fileParallelism: false,
    browser: {
      enabled: true,
      headless: true,
      screenshotFailures: false, // no PNGs next to the test files
      provider: playwright({
        launchOptions: {
          executablePath: chromiumPath,
          args: chromiumArgs,
        },
      }),
      instances: [{ browser: "chromium" }],
    },
  },
});
