import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { sharedTestServer } from "./test/support/shared-server.mjs";

// One test server for every project of this run; its URL is baked into each bundle so the
// same core test files work in Node, workerd and Chromium without a file system.
// Other areas add a `test/<area>/vitest.project.ts` of their own (picked up by the glob).
const server = await sharedTestServer();

export default defineConfig({
  test: {
    projects: [
      {
        define: { __RELAY_TEST_SERVER__: JSON.stringify(server.url) },
        resolve: {
          alias: {
            "node:test": fileURLToPath(new URL("./test/support/node-test.ts", import.meta.url)),
          },
        },
        test: { name: "core-node", environment: "node", include: ["test/core/**/*.test.ts"] },
      },
      "./test/*/vitest.project.ts",
    ],
  },
});
