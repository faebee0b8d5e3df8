// Durability: the relay runs in a real workerd process (Miniflare) with SQLite Durable Object
// storage on disk. Events are ingested, the process is killed (SIGKILL) while a delivery is in
// flight, and a new process on the same storage must deliver every accepted event: at least
// once, exactly once per id after the receiver's dedup, in acceptance order, byte for byte.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleWorker } from "../../scripts/bundle-worker.mjs";
import { distributionFixturesDir } from "../fixtures/paths.mjs";

const fixturesDir = distributionFixturesDir;
const v1 = "application/vnd.docker.distribution.events.v1+json";
const ingestToken = "durability-ingest-token-3f9e";
const eventCount = 24;

interface Receipt {
  id: string;
  body: string;
  at: number;
}

/** A slow receiver on 127.0.0.1: records each POST when it arrives, answers after `delayMs`. */
class SlowReceiver {
  readonly receipts: Receipt[] = [];
  inFlight = 0;
  readonly delayMs: number;
  #server: Server | undefined;
  url = "";

  constructor(delayMs: number) {
    this.delayMs = delayMs;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      void this.#handle(req).then((status) => {
        if (!res.destroyed) res.writeHead(status).end();
        this.inFlight--;
      });
    });
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
    // The first answers are 503s: the queue has retries on record when the process dies.
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return this.receipts.length <= 2 ? 503 : 200;
  }

  uniqueIds(): string[] {
    return [...new Set(this.receipts.map((r) => r.id))];
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
  const receiver = new SlowReceiver(150);
  const running: Miniflare[] = [];

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), "relay-durability-"));
    scriptPath = join(workDir, "worker.js");
    await bundleWorker(scriptPath, { logLevel: "error" });
    await receiver.start();
  });

  afterAll(async () => {
    for (const mf of running) await mf.dispose().catch(() => undefined);
    await receiver.close();
    await rm(workDir, { recursive: true, force: true });
  });

  function startRelay(): Miniflare {
    const mf = new Miniflare({
      modules: true,
      scriptPath,
      modulesRoot: workDir,
      compatibilityDate: "2026-04-01",
      durableObjects: { ENDPOINT_QUEUE: { className: "EndpointQueue", useSQLite: true } },
      durableObjectsPersist: join(workDir, "do"),
      bindings: {
        RELAY_ENDPOINTS: JSON.stringify([
          {
            name: "durable",
            url: `${receiver.url}/events`,
            timeout: "1s",
            strategy: { type: "breaker", threshold: 1, backoff: "20ms" },
          },
        ]),
        RELAY_INGEST_TOKENS: ingestToken,
      },
    });
    running.push(mf);
    return mf;
  }

  it("delivers every accepted event after the runtime is killed mid-delivery", async () => {
    const names = (await readdir(fixturesDir)).filter((n) => /^\d{3}-.*\.json$/.test(n)).sort();
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
});
