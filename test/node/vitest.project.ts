import { defineProject } from "vitest/config";

// Node-only tests: things that need Node APIs or Node-only packages (Buffer, node:crypto,
// reference implementations published for Node), kept out of the runtime-neutral test/core.
export default defineProject({
  test: { name: "node", environment: "node", include: ["test/node/**/*.test.ts"] },
});
