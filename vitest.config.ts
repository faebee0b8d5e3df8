import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { sharedTestServer } from "./test/support/shared-server.mjs";

// One test server for every project of this run; its URL is baked into each bundle so the
// same core test files work in Node, workerd and Chromium without a file system.
// Other areas add a `test/<area>/vitest.project.ts` of their own (picked up below).
const server = await sharedTestServer();

// `test/<area>/vitest.project.ts` files. Vitest 4 refuses a projects glob that matches files not
// named `vitest.config.*`, and a file project's root would be its own folder; `extends` keeps the
// repo root as root and accepts any file name.
const areaProjects = readdirSync(new URL("./test/", import.meta.url), { withFileTypes: true })
  .map((entry) => `./test/${entry.name}/vitest.project.ts`)
  .filter((file) => existsSync(new URL(file, import.meta.url)))
  .map((file) => ({ extends: file }));

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
      ...areaProjects,
    ],
  },
});
