// A refused oversized body must not break the connection it came on (issue 8.5): under
// `wrangler dev`, cancelling the request body after a 413 made the next request on the same
// keep-alive connection answer `503 Your worker restarted mid-request` or hang for 40 s. Here one
// keep-alive socket carries, ten times in a row, an oversized POST (with Content-Length, then
// chunked without one) and at once a valid POST, on ingest and on the admin API.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { Agent, createServer, request, type Server } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushFixture } from "../fixtures/paths.mjs";
import { startRelay } from "../support/relay-process.mjs";

const v1 = "application/vnd.docker.distribution.events.v1+json";
const ingestToken = "body-limit-ingest-token-81c2";
const adminToken = "body-limit-admin-token-0d7e";
const maxBodyBytes = 64 * 1024; // RELAY_MAX_BODY_BYTES; the admin API's own limit is 64 KiB too
const oversized = 512 * 1024;
const rounds = 10;

interface Answer {
  status: number;
  body: string;
  socket: Socket;
  ms: number;
}

/**
 * One request on `agent`. `body` is sent with Content-Length; `chunks` without one (chunked).
 * Fails after `timeoutMs` rather than waiting out a hung connection.
 */
function send(
  agent: Agent,
  url: string,
  path: string,
  headers: Record<string, string>,
  payload: { body: Buffer } | { chunks: Buffer[] },
  timeoutMs = 15_000,
): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: "POST", agent, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (part: Buffer) => parts.push(part));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(parts).toString("utf8"),
          socket: req.socket as Socket,
          ms: Date.now() - started,
        }),
      );
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    // The server may answer and stop reading before the whole body is written.
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
    });
    if ("body" in payload) {
      req.setHeader("content-length", String(payload.body.byteLength));
      req.end(payload.body);
    } else {
      for (const chunk of payload.chunks) req.write(chunk);
      req.end();
    }
  });
}

describe("a 413 leaves the keep-alive connection usable (wrangler dev)", () => {
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let receiver: Server;
  let workDir: string;
  let envelope: Buffer;

  beforeAll(async () => {
    envelope = await readFile(pushFixture);
    receiver = createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((done) => receiver.listen(0, "127.0.0.1", done));
    const address = receiver.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    workDir = await mkdtemp(join(tmpdir(), "relay-body-limit-"));
    relay = await startRelay({
      persistDir: join(workDir, "state"),
      vars: {
        RELAY_ENDPOINTS: JSON.stringify([
          { name: "sink", url: `http://127.0.0.1:${address.port}/events` },
        ]),
        RELAY_INGEST_TOKENS: ingestToken,
        RELAY_ADMIN_TOKEN: adminToken,
        RELAY_MAX_BODY_BYTES: String(maxBodyBytes),
      },
    });
  }, 120_000);

  afterAll(async () => {
    await relay?.stop();
    receiver?.closeAllConnections();
    await new Promise<void>((done) => (receiver ? receiver.close(() => done()) : done()));
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const cases = [
    {
      api: "ingest",
      path: "/v1/events",
      token: ingestToken,
      contentType: v1,
      valid: () => envelope,
      accepted: 202,
    },
    {
      api: "admin",
      path: "/v1/endpoints/sink/dead-letters/replay",
      token: adminToken,
      contentType: "application/json",
      valid: () => Buffer.from("{}"),
      accepted: 200,
    },
  ] as const;

  for (const api of cases) {
    it(`${api.api}: ${rounds}× oversized POST → 413, then at once a valid POST → ${api.accepted}, on one connection`, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const headers = { authorization: `Bearer ${api.token}`, "content-type": api.contentType };
      const big = Buffer.alloc(oversized, 0x20);
      const chunks = Array.from({ length: oversized / 16_384 }, () => Buffer.alloc(16_384, 0x20));
      const log: string[] = [];
      const sockets = new Set<Socket>();
      try {
        for (let round = 0; round < rounds; round++) {
          for (const [how, payload] of [
            ["content-length", { body: big }],
            ["chunked", { chunks }],
          ] as const) {
            const refused = await send(agent, relay.url, api.path, headers, payload);
            expect(refused.status, `${how} round ${round}: ${refused.body}`).toBe(413);
            expect(JSON.parse(refused.body).error.code).toBe("payload_too_large");
            const next = await send(agent, relay.url, api.path, headers, { body: api.valid() });
            expect(next.status, `after ${how} round ${round}: ${next.body}`).toBe(api.accepted);
            sockets.add(refused.socket).add(next.socket);
            log.push(`${how} 413 in ${refused.ms} ms, next ${next.status} in ${next.ms} ms`);
          }
        }
      } finally {
        agent.destroy();
      }
      // The runtime kept the connection: every request went over the same socket.
      expect(sockets.size).toBe(1);
      const slowest = Math.max(...log.map((line) => Number(/next \d+ in (\d+)/.exec(line)?.[1])));
      console.info(
        `body-limit ${api.api}: ${log.length} × 413 (content-length and chunked) then ${api.accepted}; ` +
          `${sockets.size} socket(s) used; slowest follow-up ${slowest} ms`,
      );
    }, 240_000);
  }
});
