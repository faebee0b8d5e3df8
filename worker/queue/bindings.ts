// The Worker's bindings: the relay's vars plus the namespace of its queues. Declared here, next to
// the queue class it names, rather than in env.ts: the queue reads its config from env.ts, so
// env.ts must not import the queue back (env.ts ← endpoint-queue.ts ← bindings.ts).
import type { RelayVars } from "../env.ts";
import type { EndpointQueue } from "./endpoint-queue.ts";

/** What the Worker's `fetch` gets as `env` (wrangler.toml: vars, secrets, the Durable Object). */
export interface Env extends RelayVars {
  ENDPOINT_QUEUE: DurableObjectNamespace<EndpointQueue>;
}

type RelayEnv = Env;

// Also Cloudflare's global binding type, the default of `DurableObject<Env>`: the queue class
// extends plain `DurableObject` and gets these bindings without importing this file back.
declare global {
  namespace Cloudflare {
    interface Env extends RelayEnv {}
  }
}
