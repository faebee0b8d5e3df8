// The relay Worker: POST /v1/events and /v1/events/{format} (ingest), the admin API, /metrics
// and /healthz. Routing and HTTP concerns live here; queues live in the EndpointQueue Durable Object (./queue/endpoint-queue.ts).
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { errorResponse } from "../src/hono/errors.ts";
import { loadRelayConfig, RelayConfigError } from "./env.ts";
import type { Env } from "./queue/bindings.ts";
import { adminApi } from "./routes/admin.ts";
import { type AppEnv, ingest } from "./routes/ingest.ts";

export { EndpointQueue } from "./queue/endpoint-queue.ts";

const app = new Hono<AppEnv>();

// The config, parsed once per isolate (memoized by the raw binding strings), for every handler
// as c.get("config"). A bad one fails loudly on every route, /healthz included, naming the key
// that is wrong, never its value.
app.use(async (c, next) => {
  try {
    c.set("config", loadRelayConfig(c.env));
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
app.post("/v1/events", ingest);
app.post("/v1/events/:format", ingest);
app.route("/", adminApi);

/** A route pattern (`/v1/endpoints/:name`) as a whole-path matcher. */
const patterns = new Map<string, RegExp>();
function matches(pattern: string, path: string): boolean {
  let re = patterns.get(pattern);
  if (!re) {
    const source = pattern
      .split("/")
      .map((part) => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("/");
    re = new RegExp(`^${source}$`);
    patterns.set(pattern, re);
  }
  return re.test(path);
}

/** The methods the app's routes answer on `path` (HEAD with GET); middleware does not count. */
function allowedMethods(path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method !== "ALL" && matches(route.path, path)) methods.add(route.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods];
}

// No handler answered: 405 with Allow when the path exists with other methods, else 404. One
// rule for every route, derived from the routes themselves.
app.notFound((c) => {
  const allowed = allowedMethods(c.req.path);
  if (allowed.length === 0) {
    return errorResponse(404, "not_found", `no route for ${c.req.method} ${c.req.path}`);
  }
  const allow = allowed.join(", ");
  return errorResponse(
    405,
    "method_not_allowed",
    `${c.req.method} is not allowed here; use ${allow}`,
    { headers: { allow } },
  );
});

// The one error handler: refusals thrown as HTTPException (the routes' JSON errors, bearerAuth's
// 401s) answer as they are; anything else is a 500 that says nothing about the config.
app.onError((error) => {
  if (error instanceof HTTPException) return error.getResponse();
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.error(`unhandled: ${reason}`);
  return errorResponse(500, "internal_error", "the relay failed to handle the request");
});

export default { fetch: app.fetch } satisfies ExportedHandler<Env>;
