// Endpoint delivering events to a local keep-alive receiver vs a bare fetch loop posting the same
// bodies at the same concurrency.
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { pathToFileURL } from "node:url";
import {
  Endpoint,
  type Event,
  EventsMediaType,
  encodeEnvelope,
  parseEnvelope,
  partitionOf,
} from "../src/index.ts";
import type { Fixture } from "./fixtures.ts";
import { compareRuns, median, type RunSide } from "./harness.ts";
import type { Row } from "./report.ts";

export interface DeliveryOptions {
  events: number;
  rounds: number;
  partitions: number;
  /** "child": the receiver runs in a child Node process; "same": in this process. */
  server: "child" | "same";
  receiverPath: string;
  nodePath: string;
}

interface Stats {
  requests: number;
  bytes: number;
}

interface Receiver {
  url: string;
  stats(): Promise<Stats>;
  stop(): Promise<void>;
}

/** Starts bench/receiver.mjs in a child Node process (or in this one) on 127.0.0.1. */
export async function startReceiver(options: DeliveryOptions): Promise<Receiver> {
  let port: number;
  let stop: () => Promise<void>;
  if (options.server === "same") {
    // Loaded at run time, not bundled: the module is also the child's entry point.
    const module = await import(pathToFileURL(options.receiverPath).href);
    const receiver = await module.startReceiver();
    port = receiver.port;
    stop = receiver.close;
  } else {
    const child: ChildProcess = spawn(options.nodePath, [options.receiverPath], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    port = await new Promise<number>((done, fail) => {
      let output = "";
      const timer = setTimeout(
        () => fail(new Error("bench: receiver did not start in 10 s")),
        10_000,
      );
      child.once("error", fail);
      child.once("exit", (code) => fail(new Error(`bench: receiver exited early (${code})`)));
      child.stdout?.on("data", (chunk) => {
        output += chunk;
        const match = /listening (\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          done(Number(match[1]));
        }
      });
    });
    child.removeAllListeners("exit");
    stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", () => {
          clearTimeout(timer);
          done();
        });
        // Closing stdin is the receiver's signal to stop.
        child.stdin?.end();
      });
  }
  const base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/events`,
    stats: async () => (await (await fetch(`${base}/stats`)).json()) as Stats,
    stop,
  };
}

/**
 * `count` events from the fixtures, cycled, each with a unique id and its repository suffixed
 * `-0`..`-31` so that partitions get an even share (the 7 fixture repositories hash unevenly).
 */
export function benchEvents(fixtures: Fixture[], count: number): Event[] {
  const source = fixtures.flatMap((fixture) => parseEnvelope(fixture.bytes).events);
  return Array.from({ length: count }, (_, i) => {
    const event = structuredClone(source[i % source.length] as Event);
    event.id = `${event.id}-${i}`;
    event.target.repository = `${event.target.repository}-${i % 32}`;
    return event;
  });
}

const utf8 = new TextEncoder();

/** A slice of the events, the exact bodies the Endpoint sends for them, and what must arrive. */
interface Work {
  events: Event[];
  /** One single-event envelope per event (maxBatch 1, as distribution): the baseline posts these. */
  bodies: string[];
  expected: Stats;
  /** Untimed warm-up: its CPU time is not recorded. */
  warmup: boolean;
}

/**
 * The events to deliver, handed out in consecutive slices: round r of one side gets the same
 * events as round r of the other side, and `total` distinct events go through each side.
 */
class Workload {
  readonly #events: Event[];
  readonly #bodies: string[];
  readonly #sizes: number[];
  #offset = 0;

  constructor(events: Event[]) {
    this.#events = events;
    // Encoded before any timing: the baseline gets its bodies for free, ours encodes each one.
    this.#bodies = events.map((event) => encodeEnvelope({ events: [event] }));
    this.#sizes = this.#bodies.map((body) => utf8.encode(body).length);
  }

  /** The first `n` events (warm-up), without moving on. */
  head(n: number): Work {
    return { ...this.#slice(0, n), warmup: true };
  }

  /** The next `n` events, wrapping around. */
  next(n: number): Work {
    if (this.#offset + n > this.#events.length) this.#offset = 0;
    const work = this.#slice(this.#offset, n);
    this.#offset += n;
    return work;
  }

  #slice(from: number, n: number): Work {
    const to = from + n;
    return {
      warmup: false,
      events: this.#events.slice(from, to),
      bodies: this.#bodies.slice(from, to),
      expected: {
        requests: n,
        bytes: this.#sizes.slice(from, to).reduce((a, b) => a + b, 0),
      },
    };
  }
}

/**
 * Runs one delivery and fails it unless the receiver got exactly the expected requests and
 * bytes. Returns the wall time in ms, and records the sender's CPU time per event (user + system
 * of this process: less disturbed by other jobs on the machine than wall time) in `cpu`.
 */
async function checked(
  receiver: Receiver,
  what: string,
  work: Work,
  cpu: number[],
  run: () => Promise<{ ms: number; retries?: number }>,
): Promise<number> {
  const { expected } = work;
  const before = await receiver.stats();
  const cpuBefore = process.cpuUsage();
  const { ms, retries = 0 } = await run();
  const cpuUsed = process.cpuUsage(cpuBefore);
  const after = await receiver.stats();
  if (!work.warmup) cpu.push((cpuUsed.user + cpuUsed.system) / expected.requests);
  const requests = after.requests - before.requests;
  const bytes = after.bytes - before.bytes;
  // A retried POST (a >1 s stall hit the default timeout) may arrive twice: allowed, reported.
  if (requests < expected.requests || requests > expected.requests + retries) {
    throw new Error(`bench: ${what} delivered ${requests} requests, expected ${expected.requests}`);
  }
  if (retries === 0 && bytes !== expected.bytes) {
    throw new Error(`bench: ${what} delivered ${bytes} bytes, expected ${expected.bytes}`);
  }
  if (retries > 0) console.error(`bench: ${what}: ${retries} attempt(s) retried`);
  return ms;
}

function endpointRun(
  receiver: Receiver,
  partitions: number,
  cpu: number[],
): (work: Work) => Promise<number> {
  return (work) =>
    checked(receiver, `Endpoint(partitions ${partitions})`, work, cpu, async () => {
      const { events } = work;
      // Distribution's defaults (timeout 1 s, breaker 10 / 1 s), one event per POST.
      const endpoint = new Endpoint("bench", receiver.url, { partitions });
      const start = performance.now();
      // As a registry does: one write per event, each awaited (it resolves once queued).
      for (const event of events) await endpoint.write(event);
      await endpoint.close(); // drains: resolves after the last POST was answered
      const ms = performance.now() - start;
      const metrics = endpoint.metrics();
      if (metrics.successes !== events.length || metrics.pending !== 0) {
        throw new Error(`bench: Endpoint delivered ${metrics.successes}/${events.length} events`);
      }
      return { ms, retries: metrics.failures + metrics.errors };
    });
}

function fetchRun(
  receiver: Receiver,
  concurrency: number,
  cpu: number[],
): (work: Work) => Promise<number> {
  return (work) =>
    checked(receiver, `fetch loop (concurrency ${concurrency})`, work, cpu, async () => {
      const { bodies } = work;
      const start = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < bodies.length) {
          const body = bodies[next++] as string;
          const response = await fetch(receiver.url, {
            method: "POST",
            headers: { "content-type": EventsMediaType },
            body,
          });
          await response.arrayBuffer(); // read to the end so the connection is reused
          if (!response.ok) throw new Error(`bench: fetch loop got ${response.status}`);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      return { ms: performance.now() - start };
    });
}

export async function benchDelivery(fixtures: Fixture[], options: DeliveryOptions): Promise<Row[]> {
  const { events: total, rounds, partitions } = options;
  // `total` events per side and comparison, split over the interleaved rounds: short rounds
  // alternate often, which is what cancels the noise of a shared machine.
  const count = Math.ceil(total / rounds);
  const events = benchEvents(fixtures, count * rounds);
  const warmupEvents = Math.min(count, 300);
  const receiver = await startReceiver(options);
  const where =
    options.server === "child"
      ? "receiver: a child Node process (keep-alive http.Server on 127.0.0.1)"
      : "receiver: in this process (keep-alive http.Server on 127.0.0.1)";
  const rows: Row[] = [];
  const side = (run: (work: Work) => Promise<number>): RunSide => {
    const workload = new Workload(events);
    return {
      run: () => run(workload.next(count)),
      warmup: () => run(workload.head(warmupEvents)),
      units: count,
    };
  };
  /** One comparison: Endpoint with `partitions` vs a fetch loop with as many workers. */
  const compare = async (lanes: number) => {
    const cpu = { ours: [] as number[], baseline: [] as number[] };
    const result = await compareRuns(
      side(endpointRun(receiver, lanes, cpu.ours)),
      side(fetchRun(receiver, lanes, cpu.baseline)),
      { rounds },
    );
    const cpuFigure = (values: number[]) => ({ value: median(values), unit: "us CPU/event" });
    return {
      ours: [{ value: result.ours.unitsPerSecond, unit: "events/s" }, cpuFigure(cpu.ours)],
      baseline: [
        { value: result.baseline.unitsPerSecond, unit: "events/s" },
        cpuFigure(cpu.baseline),
      ],
      ratio: result.ratio,
      ratios: result.ratios,
      target: 0.8,
    };
  };
  const perSide = `${count * rounds} events per side: ${rounds} interleaved rounds of ${count}`;
  try {
    rows.push({
      id: "deliver",
      label: "Endpoint vs fetch loop, FIFO",
      notes: [
        `${perSide}, after a warm-up of ${warmupEvents}`,
        "Endpoint (IgnoredSink -> EventQueue -> RetryingSink -> HttpSink, distribution defaults)",
        "vs a bare `await fetch()` loop, concurrency 1 (an endpoint is one FIFO); same bodies",
        "(the baseline's are encoded before timing, ours encodes each event itself); time from the",
        "first write to close() (drained); every round checks the receiver got exactly the bytes;",
        "us CPU/event = this process's user+system CPU per event (receiver excluded)",
        where,
      ],
      ...(await compare(1)),
    });
    if (partitions > 1) {
      const split = new Array<number>(partitions).fill(0);
      for (const event of events.slice(0, count)) {
        const partition = partitionOf(event.target.repository, partitions);
        split[partition] = (split[partition] ?? 0) + 1;
      }
      rows.push({
        id: `deliver-partitions-${partitions}`,
        label: `Endpoint vs fetch loop, ${partitions} partitions`,
        notes: [
          perSide,
          `Endpoint { partitions: ${partitions} } (one FIFO per partition, by repository) vs a`,
          `bare fetch loop with ${partitions} workers; a round's events per partition: ${split.join(" / ")}`,
          where,
        ],
        ...(await compare(partitions)),
      });
    }
  } finally {
    await receiver.stop();
  }
  return rows;
}
