// One test server per vitest process, shared by every project config (vite bundles each config
// file on its own, so a module-level singleton would not be shared: globalThis is).
import { startTestServer } from "./server.mjs";

/** @returns {Promise<{url: string, close: () => Promise<void>}>} */
export function sharedTestServer() {
  globalThis.__relayTestServer ??= startTestServer();
  return globalThis.__relayTestServer;
}
