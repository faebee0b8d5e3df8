// One retry policy, two queues: the same failure sequences go to an in-memory RetryingSink (fake
// clock and sleep, an HttpSink over a fake fetch) and to a real EndpointQueue Durable Object (its
// clock replaced, its alarms run by hand, the spied receiver answering), and both must produce
// the same schedule (attempts, delays between them) and the same dead letter (reason, status,
// stored message). Each table row also states the expected outcome, so that both cannot drift
// together.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { parseEndpointConfig } from "../../src/endpoint/config.ts";
import { strategyFor } from "../../src/endpoint/endpoint.ts";
import type { Event } from "../../src/event/schema.ts";
import { HttpSink, HttpStatusError } from "../../src/sinks/http.ts";
import { describeFailure, sensitiveValues } from "../../src/sinks/retry-policy.ts";
import { type DeadLetter, RetryingSink } from "../../src/sinks/retrying.ts";
import { type EndpointQueue, LEASE_MARGIN_MS } from "../../worker/queue/endpoint-queue.ts";
import type { EventRow } from "../../worker/queue/store.ts";
import {
  endpointConfig,
  makeEvent,
  openQueue,
  type QueueStub,
  type Receiver,
  receiverOrigin,
  settle,
  uniqueName,
  useReceiver,
  v1,
} from "./queue-support.ts";

/** One attempt's answer: a status (optionally with Retry-After seconds or a Location), a reset
 * connection, or no answer until the sender's timeout. */
type Step =
  | number
  | { status: number; retryAfter?: number; location?: string }
  | "reset"
  | "timeout";

/** What both queues must agree on. `delays` are the gaps between successive POSTs (ms). */
interface Outcome {
  posts: number;
  delays: number[];
  attempts: number;
  dead: string | null;
  status: number | null;
  message: string | null;
}

interface Scenario {
  name: string;
  /** The answer to the nth POST (1-based); `undefined` means 200. */
  answer: (n: number) => Step | undefined;
  /** Endpoint config on top of the base below. */
  config?: Record<string, unknown>;
  event?: () => Event;
  /** Math.random for the exponential strategy's jitter. */
  random?: number;
  expected: Omit<Outcome, "message"> & { message?: RegExp };
}

const second = 1000;
const hour = 3_600_000;
/** Answers `steps` in turn, then 200. */
const seq =
  (...steps: Step[]) =>
  (n: number) =>
    steps[n - 1];
const always = (step: Step) => () => step;
const newHome = "https://new.example/hook?token=moved-s3cret";
/** An event the envelope encoder refuses (nested deeper than it writes): the request cannot be
 * built, on every attempt. It is valid JSON, so the durable queue stores it like any other. */
function unencodable(): Event {
  let deep: unknown = "bottom";
  for (let i = 0; i < 1100; i++) deep = [deep];
  return { ...makeEvent(), annotations: deep } as Event;
}

/** Breaker(threshold 1, backoff 1 s): after each failure the next attempt waits 1 s. */
const base = { strategy: { type: "breaker", threshold: 1, backoff: "1s" }, timeout: "50ms" };
const delivered = (posts: number, delays: number[]) => ({
  posts,
  delays,
  attempts: posts,
  dead: null,
  status: null,
});
const dead = (
  reason: string,
  posts: number,
  delays: number[],
  status: number | null,
  attempts = posts,
) => ({ posts, delays, attempts, dead: reason, status });

const scenarios: Scenario[] = [
  {
    name: "500s, then delivered",
    answer: seq(500, 500),
    expected: delivered(3, [second, second]),
  },
  {
    name: "connection resets (transport errors), then delivered",
    answer: seq("reset", "reset"),
    expected: delivered(3, [second, second]),
  },
  {
    name: "a timeout, then delivered",
    answer: seq("timeout"),
    expected: delivered(2, [second]),
  },
  {
    name: "429 with Retry-After: 30",
    answer: seq({ status: 429, retryAfter: 30 }),
    expected: delivered(2, [30 * second]),
  },
  {
    name: "503 with a Retry-After over the 5-minute cap",
    answer: seq({ status: 503, retryAfter: 3600 }),
    expected: delivered(2, [300 * second]),
  },
  {
    name: "410 Gone is final",
    answer: seq(410),
    expected: { ...dead("final", 1, [], 410), message: /410 Gone/ },
  },
  {
    name: "400 is final",
    answer: seq(400),
    expected: dead("final", 1, [], 400),
  },
  {
    name: "301 is final: update the endpoint URL",
    answer: seq({ status: 301, location: newHome }),
    expected: {
      ...dead("final", 1, [], 301),
      message:
        /redirect to https:\/\/new\.example\/hook\?token=\*\*\* not followed: .*update its URL/,
    },
  },
  {
    name: "308 is final: update the endpoint URL",
    answer: seq({ status: 308, location: newHome }),
    expected: { ...dead("final", 1, [], 308), message: /update its URL/ },
  },
  {
    name: "302, 303 and 307 are retried, never followed",
    answer: seq(
      { status: 302, location: newHome },
      { status: 303, location: newHome },
      { status: 307, location: "/elsewhere" },
    ),
    expected: delivered(4, [second, second, second]),
  },
  {
    name: "a request that cannot be built is final at once, nothing sent",
    answer: always(500),
    event: unencodable,
    expected: { ...dead("final", 0, [], null, 1), message: /error marshaling event envelope/ },
  },
  {
    name: "maxAttempts 3",
    answer: always(500),
    config: { maxAttempts: 3 },
    expected: dead("max-attempts", 3, [second, second], 500),
  },
  {
    name: "maxAge 2.5 s: no attempt that would start after it",
    answer: always(503),
    config: { maxAge: "2500ms" },
    expected: dead("max-age", 3, [second, second], 503),
  },
  {
    name: "a Retry-After that lands past maxAge",
    answer: always({ status: 429, retryAfter: 10 }),
    config: { maxAge: "5s" },
    expected: dead("max-age", 1, [], 429),
  },
  {
    name: "maxAge not set: 3 days",
    answer: always(503),
    config: { strategy: { type: "breaker", threshold: 1, backoff: "1h" } },
    // Attempts at 0 h, 1 h, ..., 72 h: the next would start past 3 days.
    expected: dead("max-age", 73, Array(72).fill(hour), 503),
  },
  {
    name: "maxAge 0 and maxAttempts 0: no limit, past 3 days",
    answer: (n) => (n <= 80 ? 503 : undefined),
    config: {
      strategy: { type: "breaker", threshold: 1, backoff: "1h" },
      maxAge: 0,
      maxAttempts: 0,
    },
    expected: delivered(81, Array(80).fill(hour)),
  },
  {
    name: "exponential backoff (jitter fixed at 0.5)",
    answer: seq(500, "reset", 502),
    config: { strategy: { type: "exponential", base: "1s", factor: "1s", max: "20s" } },
    random: 0.5,
    // Bounds base + factor·2^(n−1): 2 s, 3 s, 5 s; half of each.
    expected: delivered(4, [1000, 1500, 2500]),
  },
];

/** Plays one answer; "timeout" waits for the sender to abort. */
function respond(step: Step | undefined, signal: AbortSignal | undefined): Promise<Response> {
  if (step === undefined) return Promise.resolve(new Response("ok", { status: 200 }));
  if (step === "reset") return Promise.reject(new TypeError("connection reset by peer"));
  if (step === "timeout") {
    return new Promise((_resolve, reject) => {
      signal?.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
    });
  }
  const { status, retryAfter, location } = typeof step === "number" ? { status: step } : step;
  const headers = new Headers();
  if (retryAfter !== undefined) headers.set("retry-after", String(retryAfter));
  if (location !== undefined) headers.set("location", location);
  return Promise.resolve(new Response(null, { status, headers }));
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - (times[i] as number));
/** Far from real time, so that no alarm the object sets fires on its own during a test. */
const epoch = Date.now() + 10 * 365 * 24 * hour;

function configOf(name: string, scenario: Scenario) {
  return endpointConfig(name, { ...base, ...scenario.config });
}

/** The in-memory side: RetryingSink → HttpSink, as the core's Endpoint composes them. */
async function viaRetryingSink(name: string, scenario: Scenario, event: Event): Promise<Outcome> {
  const config = parseEndpointConfig(configOf(name, scenario));
  let now = epoch;
  const times: number[] = [];
  const http = new HttpSink(`${receiverOrigin}/${name}`, {
    timeout: config.timeout,
    maxBatch: config.maxBatch,
    now: () => now,
    fetch: (_url, init) => {
      times.push(now);
      return respond(scenario.answer(times.length), init.signal ?? undefined);
    },
  });
  const letters: DeadLetter<Event>[] = [];
  const random = scenario.random;
  const retrying = new RetryingSink(
    http,
    strategyFor<Event>(config, {
      now: () => now,
      ...(random !== undefined && { random: () => random }),
    }),
    {
      maxAttempts: config.maxAttempts,
      maxAge: config.maxAge,
      now: () => now,
      sleep: async (ms) => {
        now += ms;
      },
      onDeadLetter: (letter) => {
        letters.push(letter);
      },
    },
  );
  await retrying.write(event);
  const [letter] = letters;
  return {
    posts: times.length,
    delays: gaps(times),
    attempts: letter?.attempts ?? times.length,
    dead: letter?.reason ?? null,
    status: letter?.lastError instanceof HttpStatusError ? letter.lastError.status : null,
    message: letter ? describeFailure(letter.lastError, sensitiveValues(config)) : null,
  };
}

/** The row of `id` as stored (undefined once delivered). */
function rowOf(stub: QueueStub, id: string): Promise<EventRow | undefined> {
  return runInDurableObject(
    stub,
    (_instance, state) =>
      state.storage.sql.exec<EventRow>("SELECT * FROM events WHERE id = ?", id).toArray()[0],
  );
}

/**
 * Waits (bounded, in real time) until the `attempts`th attempt's outcome is stored: the row is
 * gone (delivered), dead, or pending with a next attempt time other than the lease it took.
 */
async function outcomeStored(
  stub: QueueStub,
  id: string,
  attempts: number,
  lease: number,
): Promise<EventRow | undefined> {
  for (let i = 0; i < 400; i++) {
    const row = await rowOf(stub, id);
    if (row === undefined || row.state === "dead") return row;
    if (row.attempts === attempts && row.next_attempt_at !== lease) return row;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`attempt ${attempts} of ${id} did not finish`);
}

/** The durable side: a real EndpointQueue whose clock is `now`, its alarms run by hand. */
async function viaQueue(
  receiver: Receiver,
  name: string,
  scenario: Scenario,
  event: Event,
): Promise<Outcome> {
  const config = configOf(name, scenario);
  const timeout = parseEndpointConfig(config).timeout;
  let now = epoch;
  // The object shares this isolate's globals: its Date.now (and jitter) are ours for the run.
  vi.spyOn(Date, "now").mockImplementation(() => now);
  if (scenario.random !== undefined) vi.spyOn(Math, "random").mockReturnValue(scenario.random);
  receiver.answer(`/${name}`, (n, request) => respond(scenario.answer(n), request.signal));
  const stub = await openQueue([config]);
  // Enqueueing starts the first attempt right away (at `epoch`).
  await stub.enqueue({ endpoint: name, partition: 0, mediaType: v1, events: [event] });
  for (let attempts = 1; attempts <= 100; attempts++) {
    const row = await outcomeStored(stub, event.id, attempts, now + timeout + LEASE_MARGIN_MS);
    if (row === undefined || row.state === "dead") break;
    const due = (await stub.status()).nextAttemptAt;
    expect(due).toBeTypeOf("number");
    now = due as number;
    await runInDurableObject(stub, (instance: EndpointQueue) => instance.alarm());
  }
  const posts = receiver.on(`/${name}`);
  // Read from storage, not `list`: its json_extract refuses the over-deep event.
  const letter = await rowOf(stub, event.id);
  const outcome: Outcome = {
    posts: posts.length,
    delays: gaps(posts.map((post) => post.at)),
    attempts: letter?.attempts ?? posts.length,
    dead: letter?.reason ?? null,
    status: letter?.last_status ?? null,
    message: letter?.last_error ?? null,
  };
  expect(letter?.state ?? "dead").toBe("dead");
  expect((await stub.status()).depth).toBe(0);
  await settle(stub);
  return outcome;
}

let receiver: Receiver;
useReceiver((fresh) => {
  receiver = fresh;
});

describe("retry parity: RetryingSink and the EndpointQueue Durable Object", () => {
  it.each(scenarios.map((scenario) => [scenario.name, scenario] as const))(
    "%s",
    async (_name, scenario) => {
      const name = uniqueName("parity");
      const event = (scenario.event ?? makeEvent)();
      const inMemory = await viaRetryingSink(name, scenario, event);
      const durable = await viaQueue(receiver, name, scenario, event);
      expect(durable).toEqual(inMemory);
      const { message, ...schedule } = scenario.expected;
      expect({ ...inMemory, message: undefined }).toEqual({ ...schedule, message: undefined });
      if (message) expect(inMemory.message).toMatch(message);
      if (inMemory.message) expect(inMemory.message).not.toContain("moved-s3cret");
    },
  );
});
