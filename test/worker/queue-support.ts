// Helpers of the EndpointQueue tests (workerd): a receiver that answers the Durable Object's
// POSTs (a spy on globalThis.fetch, which the DO shares with the test isolate), queues with their
// own endpoint configs, and waits driven by alarms.
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, expect, vi } from "vitest";
import { encodeEnvelope, eventTexts } from "../../src/event/envelope.ts";
import type { Event } from "../../src/event/schema.ts";
import type { Env } from "../../worker/queue/bindings.ts";
import type {
  EndpointQueue,
  EnqueueInput,
  EnqueueResult,
  QueuedEvent,
} from "../../worker/queue/endpoint-queue.ts";

export const v1 = "application/vnd.docker.distribution.events.v1+json";
export const v2 = "application/vnd.docker.distribution.events.v2+json";
/** Host of the spied receiver; nothing is sent to the network for it. */
export const receiverOrigin = "http://receiver.test";
/** Standard Webhooks secret (whsec_ + base64 of 32 bytes) used by the signing tests. */
export const signingSecret = "whsec_cXVldWUtaGVscGVyLXNpZ25pbmcta2V5LTMyYnl0ZXMh";
export const headerValue = "Bearer queue-header-value-5d1e";

/** One POST the receiver got. */
export interface Received {
  path: string;
  contentType: string | null;
  headers: Headers;
  body: string;
  at: number;
  ids: string[];
  /** The POST's abort signal (an answer that never comes ends when the sender times out). */
  signal?: AbortSignal;
}

/** Decides the answer to the `n`th (1-based) POST on a path. */
export type Answer = (n: number, request: Received) => Response | Promise<Response>;

/**
 * A fake receiver at {@link receiverOrigin}: records every POST per path and answers with the
 * path's `Answer` (200 by default). Other URLs go to the real fetch (fixtures, test server).
 */
export class Receiver {
  readonly received = new Map<string, Received[]>();
  readonly answers = new Map<string, Answer>();

  install(): void {
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const request = new Request(input as RequestInfo, init as RequestInit);
      if (!request.url.startsWith(receiverOrigin)) return realFetch(input as RequestInfo, init);
      const path = new URL(request.url).pathname;
      const body = await request.text();
      let ids: string[] = [];
      try {
        ids = (JSON.parse(body) as { events: { id: string }[] }).events.map((e) => e.id);
      } catch {
        ids = [];
      }
      const record: Received = {
        path,
        contentType: request.headers.get("content-type"),
        headers: request.headers,
        body,
        at: Date.now(),
        ids,
        ...((init as RequestInit | undefined)?.signal && {
          signal: (init as RequestInit).signal as AbortSignal,
        }),
      };
      const list = this.received.get(path) ?? [];
      list.push(record);
      this.received.set(path, list);
      const answer = this.answers.get(path);
      return answer ? answer(list.length, record) : new Response("ok", { status: 200 });
    });
  }

  /** The POSTs of `path`, in arrival order. */
  on(path: string): Received[] {
    return this.received.get(path) ?? [];
  }

  /** Sets how `path` answers from now on. */
  answer(path: string, answer: Answer): void {
    this.answers.set(path, answer);
  }
}

let unique = 0;
/** A name no other test uses (objects, endpoints and receiver paths are per test). */
export function uniqueName(label: string): string {
  unique += 1;
  return `${label}-${unique}-${crypto.randomUUID().slice(0, 8)}`;
}

/** An endpoint config delivering to the receiver under `/<name>`, fast retries unless overridden. */
export function endpointConfig(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    url: `${receiverOrigin}/${name}`,
    strategy: { type: "breaker", threshold: 1, backoff: "10ms" },
    timeout: "1s",
    ...extra,
  };
}

export type QueueStub = DurableObjectStub<EndpointQueue>;

/**
 * A fresh queue object whose instance sees `endpoints` as RELAY_ENDPOINTS (the project's bindings
 * have no endpoint with the short backoffs and limits these tests need).
 */
export async function openQueue(
  endpoints: Record<string, unknown>[],
  objectName = uniqueName("queue"),
): Promise<QueueStub> {
  const stub = env.ENDPOINT_QUEUE.get(env.ENDPOINT_QUEUE.idFromName(objectName));
  await useEndpoints(stub, endpoints);
  return stub;
}

/** Makes the object's instance read `endpoints` as RELAY_ENDPOINTS from now on. */
export async function useEndpoints(
  stub: QueueStub,
  endpoints: Record<string, unknown>[],
): Promise<void> {
  const testEnv: Env = { ...env, RELAY_ENDPOINTS: JSON.stringify(endpoints) };
  await runInDurableObject(stub, (instance) => {
    (instance as unknown as { env: Env }).env = testEnv;
  });
}

/**
 * Events as ingest hands them to a queue: each one's keys, and its JSON text as `eventTexts` cuts
 * it from the envelope a registry would send on `mediaType`'s line (Go's encoding).
 */
export function queued(events: readonly Event[], mediaType: string = v1): QueuedEvent[] {
  const envelope = { events: [...events] };
  const body = encodeEnvelope(envelope, { mediaType: mediaType === v2 ? v2 : v1 });
  const texts = eventTexts(body, envelope, { mediaType });
  return events.map((event, i) => ({
    id: event.id,
    action: event.action,
    repository: event.target.repository,
    text: texts[i] as string,
  }));
}

/** `queue.enqueue` of parsed events, sent as ingest sends them ({@link queued}). */
export function enqueueTexts(
  queue: QueueStub | EndpointQueue,
  input: Omit<EnqueueInput, "events"> & { events: readonly Event[] },
): Promise<EnqueueResult> {
  return queue.enqueue({ ...input, events: queued(input.events, input.mediaType) });
}

let eventCounter = 0;
/** A valid event with a unique id. */
export function makeEvent(repository = "team/app", action = "push", label = "evt"): Event {
  eventCounter += 1;
  return {
    id: `${label}-${eventCounter}-${crypto.randomUUID()}`,
    timestamp: "2026-11-27T10:00:00.123456789Z",
    action,
    target: {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      size: 527,
      digest: "sha256:3e0ad3a67c04",
      repository,
      tag: "v1",
    },
  } as Event;
}

/**
 * Waits (bounded) until `check` passes, kicking the object's alarm between tries so a test does
 * not depend on when workerd fires it. The object still decides what is due: a kick before the
 * head's next attempt time delivers nothing.
 */
export async function until(
  stub: QueueStub,
  check: () => void | Promise<void>,
  timeout = 4000,
): Promise<void> {
  await vi.waitFor(
    async () => {
      await runDurableObjectAlarm(stub);
      await check();
    },
    { timeout, interval: 15 },
  );
}

/** Lets real time pass (for "nothing more happens" checks). */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stops an object's delivery at the end of a test so its alarms cannot leak into the next. */
export async function settle(...stubs: QueueStub[]): Promise<void> {
  for (const stub of stubs) {
    await stub.pause("test finished");
    expect((await stub.status()).paused).toBe(true);
  }
}

/** A fresh programmable receiver for each test (handed to `take`), and every mock restored after. */
export function useReceiver(take: (receiver: Receiver) => void): void {
  beforeEach(() => {
    const receiver = new Receiver();
    receiver.install();
    take(receiver);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
}

/** Answers by event: `plan[id]` lists the statuses of its successive attempts, then 200. */
export function perEvent(plan: Record<string, number[]>) {
  const seen = new Map<string, number>();
  return (_n: number, request: Received) => {
    const id = request.ids[0] ?? "";
    const attempt = (seen.get(id) ?? 0) + 1;
    seen.set(id, attempt);
    return new Response(null, { status: plan[id]?.[attempt - 1] ?? 200 });
  };
}
