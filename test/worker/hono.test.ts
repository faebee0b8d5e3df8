import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { Envelope } from "../../src/event/schema.ts";
import { receiveEnvelopes } from "../../src/hono/index.ts";
import { fixtures, v1 } from "./relay-helpers.ts";

// registry-relay/hono in a plain Hono app inside workerd (the Worker itself uses it too).
describe("receiveEnvelopes in workerd", () => {
  const received: { envelope: Envelope; raw: Uint8Array; mediaType: string }[] = [];
  const app = new Hono();
  app.post(
    "/hook",
    receiveEnvelopes({
      tokens: ["hook-token"],
      maxBodyBytes: 4096,
      onEnvelope: (envelope, { raw, mediaType }) => {
        received.push({ envelope, raw, mediaType });
        return new Response(null, { status: 204 });
      },
    }),
  );

  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    app.request("/hook", {
      method: "POST",
      body,
      headers: { authorization: "Bearer hook-token", "content-type": v1, ...headers },
    });

  it("hands over the registry's exact bytes and the parsed envelope", async () => {
    const fixture = (await fixtures())[2]!;
    expect((await post(fixture.bytes)).status).toBe(204);
    const last = received.at(-1)!;
    expect(last.raw).toEqual(fixture.bytes);
    expect(last.mediaType).toBe(v1);
    expect(last.envelope.events[0]?.target.repository).toBe(
      JSON.parse(fixture.text).events[0].target.repository,
    );
  });

  it("rejects with the relay's errors: 401, 415, 413 (streamed), 400", async () => {
    const fixture = (await fixtures())[2]!;
    const count = received.length;
    expect((await post(fixture.bytes, { authorization: "Bearer nope" })).status).toBe(401);
    expect((await post(fixture.bytes, { "content-type": "text/plain" })).status).toBe(415);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new Uint8Array(1024).fill(32));
        controller.close();
      },
    });
    const tooLarge = await post(stream);
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ error: { code: "payload_too_large" } });
    const invalid = await post('{"events":[{"id":"x"}]}');
    expect(invalid.status).toBe(400);
    const body = (await invalid.json()) as { error: { issues: { path: string }[] } };
    expect(body.error.issues.map((issue) => issue.path)).toContain("events[0].timestamp");
    expect(received.length).toBe(count);
  });
});
