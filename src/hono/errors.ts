// The one error shape every relay response uses: {"error":{"code","message","issues?"}}.
import type { EnvelopeError } from "../event/parse.ts";
import type { FormatError, InputFormat } from "../formats/model.ts";

/**
 * One problem found in a request, at a path such as `events[0].target.repository` (`""` for the
 * whole body).
 *
 * @example
 * ```ts
 * import type { ErrorIssue } from "registry-relay/hono";
 * const issue: ErrorIssue = { path: "events[0].id", message: "id must not be empty" };
 * ```
 */
export interface ErrorIssue {
  path: string;
  message: string;
}

/**
 * The JSON body of every error response.
 *
 * @example
 * ```ts
 * import type { ErrorBody } from "registry-relay/hono";
 * const body: ErrorBody = { error: { code: "unauthorized", message: "a bearer token is required" } };
 * ```
 */
export interface ErrorBody {
  error: { code: string; message: string; issues?: ErrorIssue[] };
}

/**
 * Builds the error body; `issues` is left out when there are none.
 *
 * @example
 * ```ts
 * import { errorBody } from "registry-relay/hono";
 * errorBody("not_found", "no route for GET /nope");
 * // { error: { code: "not_found", message: "no route for GET /nope" } }
 * ```
 */
export function errorBody(
  code: string,
  message: string,
  issues?: readonly ErrorIssue[],
): ErrorBody {
  const error: ErrorBody["error"] = { code, message };
  if (issues && issues.length > 0)
    error.issues = issues.map(({ path, message }) => ({ path, message }));
  return { error };
}

/**
 * Options of {@link errorResponse}.
 *
 * @example
 * ```ts
 * import type { ErrorResponseInit } from "registry-relay/hono";
 * const init: ErrorResponseInit = { headers: { "retry-after": "1" } };
 * ```
 */
export interface ErrorResponseInit {
  issues?: readonly ErrorIssue[];
  headers?: HeadersInit;
}

/**
 * A JSON error response (`content-type: application/json`), usable from any handler.
 *
 * @example
 * ```ts
 * import { errorResponse } from "registry-relay/hono";
 * app.notFound((c) => errorResponse(404, "not_found", `no route for ${c.req.method} ${c.req.path}`));
 * ```
 */
export function errorResponse(
  status: number,
  code: string,
  message: string,
  init: ErrorResponseInit = {},
): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify(errorBody(code, message, init.issues)), { status, headers });
}

/**
 * The answer to a body that parses but is refused: 413 for a size limit (naming where), else 400,
 * with every issue. The relay's ingest answers an event its store cannot hold with it too.
 */
export function refusal(format: InputFormat, error: EnvelopeError | FormatError): Response {
  const { issues } = error;
  const where = issues[0]?.path;
  const envelope = format === "distribution";
  const what = envelope ? "envelope" : `${format} notification`;
  if (error.tooLarge) {
    const at = where ? ` at ${where}` : "";
    return errorResponse(413, "payload_too_large", `the ${what} exceeds a size limit${at}`, {
      issues,
    });
  }
  return envelope
    ? errorResponse(400, "invalid_envelope", "the body is not a valid notification envelope", {
        issues,
      })
    : errorResponse(400, "invalid_notification", `the ${what} is not valid`, { issues });
}
