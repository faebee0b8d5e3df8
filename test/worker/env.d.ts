// Types of the bindings `env` from cloudflare:test and of the values vitest.project.ts defines.
import type { Env as WorkerEnv } from "../../worker/queue/bindings.ts";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
  }
  /** Base URL of the shared test server (test/support/server.mjs). */
  const __RELAY_TEST_SERVER__: string;
  /** The secret values configured in vitest.project.ts, to grep for in outputs. */
  const __RELAY_TEST_SECRETS__: {
    ingestToken: string;
    ingestToken2: string;
    adminToken: string;
    signingSecret: string;
    headerValue: string;
    apiKeyValue: string;
    urlPassword: string;
    urlQueryToken: string;
  };
}
