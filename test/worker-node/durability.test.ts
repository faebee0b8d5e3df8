// Durability: the relay runs in a real workerd process (Miniflare) with SQLite Durable Object
// storage on disk. Events are ingested, the process is killed (SIGKILL) while a delivery is in
// flight, and a new process on the same storage must deliver every accepted event: at least
// once, exactly once per id after the receiver's dedup, in acceptance order, byte for byte.
// The second case does the same with a backlog of 600 events over 4 partitions: killed while
// more than 500 wait, the restarted runtime delivers them all, in each queue's order, with at
// most one duplicate per queue (the attempt in flight at the kill).
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleWorker } from "../../scripts/bundle-worker.mjs";
import { distributionFixtureNames, distributionFixturesDir } from "../fixtures/paths.mjs";

const fixturesDir = distributionFixturesDir;
const v1 = "application/vnd.docker.distribution.events.v1+json";
const ingestToken = "durability-ingest-token-3f9e";
const eventCount = 24;

interface Receipt {
  id: string;
  body: string;
  at: number;
}

interface ReceiverOptions {
  /** How long each POST waits before it is answered. */
  delayMs: number;
  /** The status to answer, given the receipts so far (default 200). */
  status?: (receipts: readonly Receipt[]) => number;
  /** The server's keep-alive timeout, when set. */
  keepAliveTimeoutMs?: number;
}

/** A receiver on 127.0.0.1: records each event of a POST when it arrives, answers after `delayMs`. */
class Receiver {
  readonly receipts: Receipt[] = [];
  inFlight = 0;
  readonly #options: ReceiverOptions;
  #server: Server | undefined;
  url = "";

  constructor(options: ReceiverOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      void this.#handle(req).then(
        (status) => {
          if (!res.destroyed) res.writeHead(status).end();
          this.inFlight--;
        },
        // The sender died mid-body (the SIGKILL): that POST never arrived, nothing is recorded.
        () => {
          res.destroy();
          this.inFlight--;
        },
      );
    });
    const { keepAliveTimeoutMs } = this.#options;
    if (keepAliveTimeoutMs !== undefined) this.#server.keepAliveTimeout = keepAliveTimeoutMs;
    await new Promise<void>((resolve) => this.#server?.listen(0, "127.0.0.1", resolve));
    const address = this.#server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    this.url = `http://127.0.0.1:${address.port}`;
  }

  async #handle(req: IncomingMessage): Promise<number> {
    this.inFlight++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const ids = (JSON.parse(body) as { events: { id: string }[] }).events.map((e) => e.id);
    for (const id of ids) this.receipts.push({ id, body, at: Date.now() });
    await new Promise((resolve) => setTimeout(resolve, this.#options.delayMs));
    return this.#options.status?.(this.receipts) ?? 200;
  }

  uniqueIds(): string[] {
    return [...new Set(this.receipts.map((r) => r.id))];
  }

  uniqueCount(): number {
    return this.uniqueIds().length;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server?.closeAllConnections();
      this.#server?.close(() => resolve());
    });
  }
}

/** Polls `check` every 25 ms until it is true, failing after `timeoutMs`. */
async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("EndpointQueue durability across a hard stop", () => {
  let workDir: string;
  let scriptPath: string;
  // Slow, and the first answers are 503s: the queue has retries on record when the process dies.
  const receiver = new Receiver({
    delayMs: 150,
    status: (receipts) => (receipts.length <= 2 ? 503 : 200),
  });
  // Answers every POST 200.
  const backlogReceiver = new Receiver({ delayMs: 25, keepAliveTimeoutMs: 30_000 });
  const running: Miniflare[] = [];

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "relay-durability-"));
    scriptPath = join(workDir, "worker.js");
    await bundleWorker(scriptPath, { logLevel: "error" });
    await receiver.start();
    await backlogReceiver.start();
  });

  afterAll(async () => {
    for (const mf of running) await mf.dispose().catch(() => undefined);
    await receiver.close();
    await backlogReceiver.close();
    await rm(workDir, { recursive: true, force: true });
  });

  function startRelay(
    options: { endpoints?: unknown[]; persistDir?: string; bindings?: Record<string, string> } = {},
  ): Miniflare {
    const endpoints = options.endpoints ?? [
      {
        name: "durable",
        url: `${receiver.url}/events`,
        timeout: "1s",
        strategy: { type: "breaker", threshold: 1, backoff: "20ms" },
      },
    ];
    const mf = new Miniflare({
      modules: true,
      scriptPath,
      modulesRoot: workDir,
      compatibilityDate: "2026-04-01",
      durableObjects: { ENDPOINT_QUEUE: { className: "EndpointQueue", useSQLite: true } },
      durableObjectsPersist: options.persistDir ?? join(workDir, "do"),
      bindings: {
        RELAY_ENDPOINTS: JSON.stringify(endpoints),
        RELAY_INGEST_TOKENS: ingestToken,
        ...options.bindings,
      },
    });
    running.push(mf);
    return mf;
  }

  it("delivers every accepted event after the runtime is killed mid-delivery", async () => {
    const names = distributionFixtureNames();
    const fixtures = await Promise.all(
      names.slice(0, eventCount).map((name) => readFile(join(fixturesDir, name), "utf8")),
    );
    const accepted: string[] = [];
    const bodyOf = new Map<string, string>();

    const first = startRelay();
    await first.ready;
    // One resend of the first fixture: the relay must count it as a duplicate, not queue it.
    for (const body of [...fixtures, fixtures[0] as string]) {
      const response = await first.dispatchFetch("http://relay.test/v1/events", {
        method: "POST",
        headers: { authorization: `Bearer ${ingestToken}`, "content-type": v1 },
        body,
      });
      expect(response.status).toBe(202);
      const answer = (await response.json()) as { endpoints: { queued: number }[] };
      const id = (JSON.parse(body) as { events: { id: string }[] }).events[0]?.id as string;
      if (answer.endpoints[0]?.queued === 1) {
        accepted.push(id);
        bodyOf.set(id, body);
      }
    }
    expect(new Set(accepted).size).toBe(accepted.length);
    expect(accepted.length).toBeGreaterThanOrEqual(eventCount - 4);

    // Kill workerd while a POST is open and a good part of the queue is still waiting.
    await waitFor(
      "a delivery in flight",
      () => receiver.receipts.length >= 6 && receiver.inFlight > 0,
      15_000,
    );
    const cut = receiver.receipts.at(-1)?.id;
    await first.dispose();
    const receiptsBeforeStop = receiver.receipts.length;
    const beforeStop = receiver.uniqueIds().length;
    expect(beforeStop).toBeLessThan(accepted.length);

    // A new runtime on the same storage; nothing touches the queue: its alarm must resume.
    const restartedAt = Date.now();
    const second = startRelay();
    await second.ready;
    await waitFor(
      "every accepted event",
      () => receiver.uniqueIds().length >= accepted.length,
      30_000,
    );
    await second.dispose();

    expect(receiver.uniqueIds()).toEqual(accepted);
    for (const receipt of receiver.receipts) expect(receipt.body).toBe(bodyOf.get(receipt.id));
    // At least once: the POST cut by the kill is the first one the new runtime sends.
    const afterRestart = receiver.receipts.slice(receiptsBeforeStop);
    expect(afterRestart[0]?.id).toBe(cut);
    console.info(
      `durability: ${accepted.length} accepted, ${beforeStop} delivered before SIGKILL, ` +
        `${receiver.receipts.length} POSTs in all, first POST ${(afterRestart[0]?.at ?? 0) - restartedAt} ms after restart`,
    );
  });

  it("keeps a backlog of 600 over 4 queues through a SIGKILL mid-delivery: none lost, order kept, <= 1 duplicate per queue", async () => {
    const total = 600;
    const repositories = 8; // two per partition with the core's FNV-1a hash
    const partitions = 4;
    const adminToken = "durability-admin-token-c41b";
    const names = distributionFixtureNames();
    const fixtures = await Promise.all(
      names.map((name) => readFile(join(fixturesDir, name), "utf8")),
    );
    // Captured registry bodies, each with a fresh event id and one of 8 repositories.
    const sent = Array.from({ length: total }, (_, k) => {
      const raw = fixtures[k % fixtures.length] as string;
      const event = (
        JSON.parse(raw) as { events: { id: string; target: { repository: string } }[] }
      ).events[0];
      if (!event) throw new Error(`fixture ${k % fixtures.length} has no event`);
      const id: string = crypto.randomUUID();
      const repository = `durable/repo-${k % repositories}`;
      const body = raw
        .replace(`"id": "${event.id}"`, `"id": "${id}"`)
        .split(`"repository": "${event.target.repository}"`)
        .join(`"repository": "${repository}"`);
      return { k, id, repository, body };
    });
    const options = {
      endpoints: [
        {
          name: "backlog",
          url: `${backlogReceiver.url}/events`,
          timeout: "1s",
          partitions,
          strategy: { type: "breaker", threshold: 1, backoff: "20ms" },
        },
      ],
      persistDir: join(workDir, "do-backlog"),
      bindings: { RELAY_ADMIN_TOKEN: adminToken },
    };
    const call = async (mf: Miniflare, method: string, path: string, body?: string) => {
      const response = await mf.dispatchFetch(`http://relay.test${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
        ...(body !== undefined && { body }),
      });
      const text = await response.text();
      expect(response.status, `${method} ${path}: ${text}`).toBe(200);
      return JSON.parse(text) as Record<string, unknown>;
    };

    const first = startRelay(options);
    await first.ready;
    // Paused while the backlog builds, so that all 600 are waiting when delivery starts.
    await call(first, "POST", "/v1/endpoints/backlog/pause", "{}");
    const ingestOne = async (item: (typeof sent)[number]) => {
      const response = await first.dispatchFetch("http://relay.test/v1/events", {
        method: "POST",
        headers: { authorization: `Bearer ${ingestToken}`, "content-type": v1 },
        body: item.body,
      });
      const text = await response.text();
      expect(response.status, `#${item.k}: ${text}`).toBe(202);
      expect((JSON.parse(text) as { endpoints: { queued: number }[] }).endpoints[0]?.queued).toBe(
        1,
      );
    };
    // One sequential sender per repository: each repository's acceptance order is the send order.
    await Promise.all(
      Array.from({ length: repositories }, async (_, r) => {
        for (const item of sent) if (item.k % repositories === r) await ingestOne(item);
      }),
    );

    // The committed order of each queue, as the relay lists it (FIFO by seq, per partition).
    const queued: { id: string; seq: number; partition: number; repository: string }[] = [];
    let cursor = "";
    for (let page = 0; page < 10; page++) {
      const query = `state=pending&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const listed = await call(first, "GET", `/v1/endpoints/backlog/events?${query}`);
      queued.push(...(listed.items as typeof queued));
      if (!listed.nextCursor) break;
      cursor = listed.nextCursor as string;
    }
    expect(queued.length).toBe(total);
    expect(new Set(queued.map((q) => q.id))).toEqual(new Set(sent.map((s) => s.id)));
    const queueOf = new Map(queued.map((q) => [q.id, q.partition]));
    const orderOf = (partition: number) =>
      queued.filter((q) => q.partition === partition).sort((a, b) => a.seq - b.seq);
    for (let p = 0; p < partitions; p++) expect(orderOf(p).length).toBeGreaterThan(0);

    // Deliver against the slow receiver, then kill workerd with a POST open and >= 500 waiting.
    await call(first, "POST", "/v1/endpoints/backlog/resume", "{}");
    await waitFor(
      "deliveries under way",
      () => backlogReceiver.uniqueCount() >= 40 && backlogReceiver.inFlight > 0,
      30_000,
    );
    const openAtKill = backlogReceiver.inFlight;
    await first.dispose(); // SIGKILL
    const arrivalsBeforeKill = backlogReceiver.receipts.length;
    const deliveredBeforeKill = backlogReceiver.uniqueCount();
    expect(total - deliveredBeforeKill).toBeGreaterThanOrEqual(500);
    // Per queue, the last POST before the kill is the one attempt that may be in flight.
    const lastBeforeKill = new Map<number, string>();
    for (const arrival of backlogReceiver.receipts.slice(0, arrivalsBeforeKill)) {
      lastBeforeKill.set(queueOf.get(arrival.id) as number, arrival.id);
    }

    const restartedAt = Date.now();
    const second = startRelay(options);
    await second.ready;
    await waitFor("all 600 events", () => backlogReceiver.uniqueCount() >= total, 90_000);
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for a late duplicate
    const after = (await call(second, "GET", "/v1/endpoints/backlog")) as {
      depth: number;
      deadLetters: number;
    };
    await second.dispose();
    const drainedMs = Date.now() - restartedAt;

    // Nothing lost, nothing foreign.
    const arrivals = backlogReceiver.receipts;
    expect(new Set(arrivals.map((a) => a.id))).toEqual(new Set(sent.map((s) => s.id)));
    expect(after.depth).toBe(0);
    expect(after.deadLetters).toBe(0);
    // Per queue: first arrivals in commit order; at most one duplicate, the in-flight one.
    const duplicates: string[] = [];
    for (let p = 0; p < partitions; p++) {
      const mine = arrivals.filter((a) => queueOf.get(a.id) === p).map((a) => a.id);
      expect([...new Set(mine)], `queue ${p}: order`).toEqual(orderOf(p).map((q) => q.id));
      const extra = mine.length - new Set(mine).size;
      expect(extra, `queue ${p}: duplicates`).toBeLessThanOrEqual(1);
      if (extra === 1) {
        const seen = new Set<string>();
        const again = mine.find((id) => seen.size === seen.add(id).size) as string;
        expect(again, `queue ${p}: the duplicate is the attempt in flight at the kill`).toBe(
          lastBeforeKill.get(p),
        );
        duplicates.push(again);
      }
    }
    // And per repository, the order the (sequential) sender got its 202s in.
    for (let r = 0; r < repositories; r++) {
      const expected = sent.filter((s) => s.k % repositories === r).map((s) => s.id);
      const firsts = [...new Set(arrivals.map((a) => a.id))];
      const ids = new Set(expected);
      expect(
        firsts.filter((id) => ids.has(id)),
        `repository ${r}: order`,
      ).toEqual(expected);
    }
    console.info(
      `durability backlog: ${total} accepted in ${partitions} queues, ${deliveredBeforeKill} delivered ` +
        `before SIGKILL (${openAtKill} POST(s) open), ${arrivals.length} POSTs in all, ` +
        `${duplicates.length} duplicate(s), drained ${drainedMs} ms after restart`,
    );
  }, 150_000);
});
