import { SELF } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { inbox } from "../support/env.ts";
import {
  admin,
  envelopeOf,
  event,
  eventually,
  fixtures,
  ingest,
  relay,
  secrets,
  v1,
  withEnv,
} from "./relay-helpers.ts";

// Every configured secret must stay out of responses (bodies and headers) and logs. The tokens
// are sent by clients, so they must not be echoed either.
const needles = Object.entries({
  ...secrets,
  signingKey: secrets.signingSecret.slice("whsec_".length),
  headerToken: secrets.headerValue.replace(/^Bearer /, ""),
});

const logged: string[] = [];
const methods = ["log", "info", "warn", "error", "debug"] as const;
const spies: { mockRestore(): void }[] = [];
const outputs: string[] = [];

async function record(response: Response): Promise<Response> {
  const body = await response.clone().text();
  const headers = [...response.headers].map(([name, value]) => `${name}: ${value}`).join("\n");
  outputs.push(`${response.status}\n${headers}\n\n${body}`);
  return response;
}

beforeAll(() => {
  for (const method of methods) {
    spies.push(
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        logged.push(
          args
            .map((arg) =>
              arg instanceof Error
                ? `${arg.message} ${arg.stack}`
                : typeof arg === "string"
                  ? arg
                  : JSON.stringify(arg),
            )
            .join(" "),
        );
      }),
    );
  }
});

afterAll(() => {
  for (const spy of spies) spy.mockRestore();
});

describe("redaction: no secret or header value in any response or log line", () => {
  it("exercises ingest, delivery, failures, admin, metrics and config errors, then greps", async () => {
    const fixture = (await fixtures())[2]!;
    const envelope = JSON.parse(fixture.text);
    envelope.events[0].id = `redaction-${crypto.randomUUID()}`;
    const body = JSON.stringify(envelope, null, 3);

    // Ingest: accepted, and every kind of rejection.
    await record(await ingest(body));
    await record(await ingest(body)); // duplicate
    await record(await ingest(body, { authorization: "" }));
    await record(await ingest(body, { authorization: `Bearer ${secrets.ingestToken}-wrong` }));
    await record(await ingest(body, { "content-type": "text/plain" }));
    await record(await ingest(" ".repeat(70_000)));
    await record(await ingest('{"events":[{"id":""}]}'));
    await record(await ingest(envelopeOf(event("delete", "redaction/gone"))));

    // Delivery happened with the configured header (so the grep below is not vacuous) ...
    const delivered = await eventually(async () => {
      const requests = await inbox("worker-inbox");
      return requests.find((r) => r.body.includes(envelope.events[0].id));
    });
    expect(delivered.headers.authorization).toBe(secrets.headerValue);
    expect(delivered.headers["x-api-key"]).toBe(secrets.apiKeyValue);
    expect(delivered.headers["webhook-signature"]).toMatch(/^v1,/);
    expect(delivered.url).toContain(secrets.urlQueryToken);
    // ... and a failing endpoint with a secret header has a last error and a dead letter.
    await eventually(async () => {
      const s = (await (await admin("/v1/endpoints/rejecting")).json()) as { deadLetters: number };
      return s.deadLetters > 0 ? s : undefined;
    });

    // Admin and metrics.
    for (const path of [
      "/v1/endpoints",
      "/v1/endpoints/inbox",
      "/v1/endpoints/rejecting",
      "/v1/endpoints/off",
      "/v1/endpoints/inbox/events?state=pending",
      "/v1/endpoints/rejecting/events?state=dead",
      "/metrics",
    ]) {
      await record(await admin(path, { headers: { origin: "https://ops.example.com" } }));
    }
    await record(await admin("/v1/endpoints/inbox/pause", { method: "POST", body: "{}" }));
    await record(await admin("/v1/endpoints/inbox/resume", { method: "POST" }));
    await record(await admin("/v1/endpoints/rejecting/dead-letters/replay", { method: "POST" }));
    await record(await admin("/v1/endpoints/rejecting/dead-letters", { method: "DELETE" }));
    await record(
      await SELF.fetch(`${relay}/v1/endpoints`, {
        headers: { authorization: `Bearer ${secrets.adminToken}x` },
      }),
    );
    await record(await SELF.fetch(`${relay}/nope`));
    await record(await SELF.fetch(`${relay}/healthz`));

    // A broken config whose text contains every secret.
    const broken = `[{"name":"x","url":"https://x.example/?k=${secrets.urlQueryToken}","headers":{"A":"${secrets.headerValue}"},"secret":"${secrets.signingSecret}","ignore":{"actions":["nope"]}}]`;
    for (const value of [broken, broken.slice(0, -5)]) {
      await record(
        await withEnv(
          { RELAY_ENDPOINTS: value },
          new Request(`${relay}/v1/events`, {
            method: "POST",
            body,
            headers: { authorization: `Bearer ${secrets.ingestToken}`, "content-type": v1 },
          }),
        ),
      );
    }

    expect(outputs.length).toBe(24);
    expect(logged.length).toBeGreaterThan(0); // the failures above do log
    const haystacks: [string, string][] = [
      ...outputs.map((o, i): [string, string] => [`response ${i}`, o]),
      ...logged.map((l, i): [string, string] => [`log ${i}`, l]),
    ];
    for (const [where, text] of haystacks) {
      for (const [name, value] of needles) {
        expect(text.includes(value), `${name} found in ${where}: ${text.slice(0, 300)}`).toBe(
          false,
        );
      }
    }
  }, 20_000);
});
