import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { startTestServer } from "./test/support/server.mjs";

// One test server for every project of this run; its URL is baked into each bundle so the
// same core test files work in Node, workerd and Chromium without a file system.
const server = await startTestServer();
const shared = {
  define: { __RELAY_TEST_SERVER__: JSON.stringify(server.url) },
  resolve: { alias: { "node:test": fileURLToPath(new URL("./test/support/node-test.ts", import.meta.url)) } },
};

export default defineConfig({
  test: {
    projects: [
      { ...shared, test: { name: "core-node", environment: "node", include: ["test/core/**/*.test.ts"] } },
    ],
  },
});
