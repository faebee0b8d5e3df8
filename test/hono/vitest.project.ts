import { defineProject } from "vitest/config";
import { sharedTestServer } from "../support/shared-server.mjs";

// registry-relay/hono in a plain Hono app under Node (the middleware is runtime-neutral; the
// Worker tests cover it inside workerd). Fixtures come from the shared test server.
const server = await sharedTestServer();

export default defineProject({
  define: { __RELAY_TEST_SERVER__: JSON.stringify(server.url) },
  test: { name: "hono", environment: "node", include: ["test/hono/**/*.test.ts"] },
});
