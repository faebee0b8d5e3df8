// The relay Worker: POST /v1/events (ingest), the admin API, /metrics and /healthz. Routing and
// HTTP concerns live here; queues live in the EndpointQueue Durable Object (./queue/endpoint-queue.ts).
import { Hono } from "hono";
import { errorResponse } from "../src/hono/errors.ts";
import { loadRelayConfig, RelayConfigError } from "./env.ts";
import { endpointsApi, methodNotAllowed, metricsApi } from "./routes/admin.ts";
import { type AppEnv, ingest } from "./routes/ingest.ts";

export { EndpointQueue } from "./queue/endpoint-queue.ts";

/**
 * The relay's Hono app.
 *
 * @example
 * ```ts
 * import { app } from "./index.ts";
 * const response = await app.request("/healthz", {}, env);
 * ```
 */
export const app = new Hono<AppEnv>();

// Validate the bindings before anything else, so a bad config fails loudly on every route
// (including /healthz) with the key that is wrong, never its value.
app.use("*", async (c, next) => {
  try {
    loadRelayConfig(c.env);
  } catch (error) {
    if (!(error instanceof RelayConfigError)) throw error;
    console.error(`config: ${error.message}`);
    return errorResponse(500, "invalid_config", `the relay is misconfigured: ${error.message}`, {
      issues: [{ path: error.key, message: error.reason }],
    });
  }
  await next();
});

app.get("/healthz", (c) => c.json({ status: "ok" }));
app.all("/healthz", methodNotAllowed("GET"));

app.post("/v1/events", ingest);
app.all("/v1/events", methodNotAllowed("POST"));

app.route("/v1/endpoints", endpointsApi);
app.route("/metrics", metricsApi);

app.notFound((c) => errorResponse(404, "not_found", `no route for ${c.req.method} ${c.req.path}`));

app.onError((error) => {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.error(`unhandled: ${reason}`);
  return errorResponse(500, "internal_error", "the relay failed to handle the request");
});

/**
 * The Worker entry point.
 *
 * @example
 * ```ts
 * import worker from "./index.ts";
 * const response = await worker.fetch(new Request("http://relay/healthz"), env, ctx);
 * ```
 */
export default { fetch: app.fetch } satisfies ExportedHandler<AppEnv["Bindings"]>;
