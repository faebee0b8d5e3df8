import { defineProject } from "vitest/config";

// Node-side tests of the Worker through Miniflare's API: the bundle runs in a real workerd
// process with on-disk Durable Object storage, which the tests stop hard and start again.
export default defineProject({
  test: {
    name: "worker-node",
    environment: "node",
    include: ["test/worker-node/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
