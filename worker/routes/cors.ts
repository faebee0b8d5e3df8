// CORS for the admin API: only origins listed in RELAY_CORS_ORIGINS, compared exactly. Ingest has
// no CORS at all (registries are not browsers).
import type { Context, Env, MiddlewareHandler } from "hono";
import { errorResponse } from "../../src/hono/errors.ts";

const allowMethods = "GET, POST, DELETE, OPTIONS";
const allowHeaders = "authorization, content-type";
const maxAgeSeconds = "600";

/**
 * CORS middleware for a fixed list of exact origins (`https://ops.example.com`, no wildcards).
 * A preflight from an allowed origin gets 204 with the allowed methods and headers; from any
 * other origin, 403 JSON. Actual requests from an allowed origin get
 * `Access-Control-Allow-Origin` (and always `Vary: Origin`); others get no CORS headers, so the
 * browser hides the response.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { corsFor } from "./cors.ts";
 * const app = new Hono();
 * app.use("/v1/endpoints/*", corsFor(() => ["https://ops.example.com"]));
 * ```
 */
export function corsFor<E extends Env>(
  origins: (c: Context<E>) => readonly string[],
): MiddlewareHandler<E> {
  return async (c, next) => {
    const origin = c.req.header("origin");
    const allowed = origin !== undefined && origins(c).includes(origin);
    const preflight =
      c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined;
    if (preflight) {
      if (!allowed) {
        return errorResponse(403, "cors_origin_refused", "this origin may not call the admin API", {
          headers: { vary: "Origin" },
        });
      }
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": origin,
          "access-control-allow-methods": allowMethods,
          "access-control-allow-headers": allowHeaders,
          "access-control-max-age": maxAgeSeconds,
          vary: "Origin",
        },
      });
    }
    await next();
    c.res.headers.append("vary", "Origin");
    if (allowed) {
      c.res.headers.set("access-control-allow-origin", origin);
      c.res.headers.set("access-control-expose-headers", "retry-after");
    }
  };
}
