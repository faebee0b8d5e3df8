import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineProject } from "vitest/config";
import { sharedTestServer } from "../support/shared-server.mjs";

// The runtime-neutral core tests, unmodified, inside workerd (the Workers runtime).
// No wrangler config: the core has no bindings. `nodejs_compat` provides workerd's native
// `node:assert/strict`; `node:test` maps to vitest. Outbound fetch goes straight to the shared
// test server on 127.0.0.1 (miniflare does not intercept it).
const server = await sharedTestServer();

export default defineProject({
  plugins: [
    cloudflareTest({
      miniflare: {
        compatibilityDate: "2026-04-01", // <= 2026-04-26, the newest workerd 1.20260426.1 knows
        compatibilityFlags: ["nodejs_compat"],
      },
    }),
  ],
  define: { __RELAY_TEST_SERVER__: JSON.stringify(server.url) },
  resolve: {
    alias: {
      "node:test": fileURLToPath(new URL("../support/node-test.ts", import.meta.url)),
    },
  },
  test: { name: "core-workerd", include: ["test/core/**/*.test.ts"] },
});
