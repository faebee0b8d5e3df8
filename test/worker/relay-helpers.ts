// Shared helpers of the Worker tests (workerd): requests to the relay, fixtures with fresh event
// ids, and the configured secrets to grep for.
import { env, SELF } from "cloudflare:test";
import worker from "../../worker/index.ts";
import { type Fixture, loadFixtures } from "../support/env.ts";

export const secrets = __RELAY_TEST_SECRETS__;
export const v1 = "application/vnd.docker.distribution.events.v1+json";
export const relay = "http://relay.test";
export const enabledEndpoints = ["inbox", "manifests", "sharded", "rejecting"];

export type ErrorJson = {
  error: { code: string; message: string; issues?: { path: string; message: string }[] };
};

export interface IngestResult {
  accepted: number;
  endpoints: { name: string; queued: number; ignored: number; duplicates: number }[];
}

/** POST /v1/events through the real Worker entry (SELF). */
export function ingest(
  body: BodyInit,
  headers: Record<string, string> = {},
  init: RequestInit = {},
) {
  return SELF.fetch(`${relay}/v1/events`, {
    method: "POST",
    body,
    headers: { authorization: `Bearer ${secrets.ingestToken}`, "content-type": v1, ...headers },
    ...init,
  });
}

/** An admin request (bearer RELAY_ADMIN_TOKEN). */
export function admin(path: string, init: RequestInit = {}) {
  return SELF.fetch(`${relay}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${secrets.adminToken}`,
      ...(init.headers as Record<string, string>),
    },
  });
}

/** The Worker's fetch with some bindings replaced (for config variants). */
export async function withEnv(
  overrides: Partial<Cloudflare.Env>,
  request: Request,
): Promise<Response> {
  const ctx = {
    waitUntil: () => {},
    passThroughOnException: () => {},
    props: {},
  } as unknown as ExecutionContext;
  return worker.fetch(
    request as Request<unknown, IncomingRequestCfProperties>,
    { ...env, ...overrides },
    ctx,
  );
}

let counter = 0;
/** A unique event id per call (the queues deduplicate by id). */
export function freshId(label = "e"): string {
  counter += 1;
  return `${label}-${crypto.randomUUID()}-${counter}`;
}

/** A fixture envelope with fresh event ids, re-encoded as distribution does (3-space indent). */
export function withFreshIds(fixture: Fixture, label?: string): { text: string; ids: string[] } {
  const envelope = JSON.parse(fixture.text) as { events: { id: string }[] };
  const ids = envelope.events.map((event) => {
    event.id = freshId(label);
    return event.id;
  });
  return { text: JSON.stringify(envelope, null, 3), ids };
}

export interface TestEvent {
  id: string;
  timestamp: string;
  action: string;
  target: { mediaType?: string; repository: string; tag?: string; digest?: string };
}

/** A hand-made event (valid per the schema). */
export function event(
  action: string,
  repository: string,
  mediaType?: string,
  id = freshId(),
): TestEvent {
  return {
    id,
    timestamp: "2026-11-27T10:00:00.123456789Z",
    action,
    target: { ...(mediaType ? { mediaType } : {}), repository, digest: "sha256:abc" },
  };
}

export const envelopeOf = (...events: TestEvent[]) => JSON.stringify({ events }, null, 3);

export async function fixtures(): Promise<Fixture[]> {
  return loadFixtures();
}

export async function errorOf(response: Response): Promise<ErrorJson["error"]> {
  const text = await response.text();
  const body = JSON.parse(text) as ErrorJson;
  if (Object.keys(body).join() !== "error") throw new Error(`not the error shape: ${text}`);
  return body.error;
}

/** Polls `check` until it returns a value (bounded; fails the test after `timeoutMs`). */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 5000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
