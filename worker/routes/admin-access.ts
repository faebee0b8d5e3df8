// Who may call the admin API and /metrics: browsers from RELAY_CORS_ORIGINS only (Hono's cors),
// and only with the RELAY_ADMIN_TOKEN bearer token (Hono's bearerAuth around the core's
// constant-time matcher). Ingest has no CORS at all: registries are not browsers.
import type { MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { cors } from "hono/cors";
import { tokenMatcher } from "../../src/hono/auth.ts";
import { errorBody, errorResponse } from "../../src/hono/errors.ts";
import type { RelayConfig } from "../env.ts";
import type { AppEnv } from "./ingest.ts";

const realm = "registry-relay-admin";

const corsByConfig = new WeakMap<RelayConfig, MiddlewareHandler>();

/** Hono's cors with RELAY_CORS_ORIGINS as its exact-match list; a stranger's preflight is 403. */
const adminCors: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = c.get("config");
  if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method")) {
    // hono/cors answers every preflight 204 and only leaves Allow-Origin out for a stranger;
    // refusing with 403 JSON tells the operator why the browser blocks the console.
    if (!config.corsOrigins.includes(c.req.header("origin") ?? "")) {
      return errorResponse(403, "cors_origin_refused", "this origin may not call the admin API", {
        headers: { vary: "Origin" },
      });
    }
  } else if (c.req.method === "OPTIONS") {
    return next(); // not a preflight: routed like any other method (401, then 405)
  }
  let handler = corsByConfig.get(config);
  if (!handler) {
    handler = cors({
      origin: config.corsOrigins,
      allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
      allowHeaders: ["authorization", "content-type"],
      exposeHeaders: ["retry-after"],
      maxAge: 600,
    });
    corsByConfig.set(config, handler);
  }
  return handler(c, next);
};

/** Without RELAY_ADMIN_TOKEN the admin API is closed (403): there is nothing to compare with. */
const adminEnabled: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get("config").adminToken === undefined) {
    const message = "the admin API is disabled because RELAY_ADMIN_TOKEN is not set";
    return errorResponse(403, "admin_disabled", message);
  }
  await next();
};

const matchers = new WeakMap<RelayConfig, (token: string) => Promise<boolean>>();

/** The admin token's matcher: the core's (SHA-256 of both sides, then constant time). */
function adminMatcher(config: RelayConfig): (token: string) => Promise<boolean> {
  let matches = matchers.get(config);
  if (!matches) {
    matches = tokenMatcher(config.adminToken === undefined ? [] : [config.adminToken]);
    matchers.set(config, matches);
  }
  return matches;
}

const challenge = (error: string) => `Bearer realm="${realm}", error="${error}"`;

// Hono's bearerAuth parses the header and throws the 401s (with WWW-Authenticate) for the app's
// onError; the comparison is the core's tokenMatcher, not Hono's, which after the hashes also
// compares the raw strings in a time that follows their length.
const adminBearer = bearerAuth<AppEnv>({
  realm,
  verifyToken: (token, c) => adminMatcher(c.get("config"))(token),
  noAuthenticationHeader: {
    message: errorBody("unauthorized", "an admin bearer token is required"),
  },
  // 401 like a wrong token (Hono says 400): the console then stops and asks for the token.
  invalidAuthenticationHeader: {
    wwwAuthenticateHeader: challenge("invalid_request"),
    message: () =>
      errorResponse(401, "unauthorized", "the Authorization header must be Bearer <token>"),
  },
  invalidToken: {
    wwwAuthenticateHeader: challenge("invalid_token"),
    message: errorBody("unauthorized", "the admin bearer token is not valid"),
  },
});

/** CORS, then the admin token: the middleware in front of every admin route. */
export const adminAccess = [adminCors, adminEnabled, adminBearer] as const;
