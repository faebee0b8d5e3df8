// The registry's own bytes through the relay (workerd): ingest cuts each event's text from the
// body, the EndpointQueue stores it and sends it as it is on its line, batches splice texts into
// Go's frame, a line change re-encodes, and rows stored before texts were kept still deliver.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EnvelopeMediaType } from "../../src/event/constants.ts";
import { encodeEnvelope, eventTexts, frameEnvelope } from "../../src/event/envelope.ts";
import type { Event } from "../../src/event/schema.ts";
import type { EndpointQueue } from "../../worker/queue/endpoint-queue.ts";
import { queueName } from "../../worker/queue/partition.ts";
import { migrate } from "../../worker/queue/store.ts";
import {
  endpointConfig,
  makeEvent,
  openQueue,
  type Receiver,
  settle,
  uniqueName,
  until,
  useReceiver,
  v1,
  v2,
} from "./queue-support.ts";
import { relay, secrets, withEnv } from "./relay-helpers.ts";

let receiver: Receiver;
useReceiver((fresh) => {
  receiver = fresh;
});

/**
 * An event whose User-Agent carried invalid UTF-8 bytes and `<&>`: Go writes them as `\ufffd`
 * and `\u003c`, `\u0026`, `\u003e`. Parsed, `\ufffd` is a real U+FFFD, which Go (and
 * encodeEnvelope) would write raw: only the registry's own text keeps its bytes.
 */
function oddEvent(repository: string): Event {
  const event = makeEvent(repository, "pull", "raw");
  event.request = { method: "GET", useragent: "e2e/\ufffd\ufffd <b> & co" };
  return event;
}
/** What distribution writes for these events (one envelope): Go's MarshalIndent. */
const goBody = (events: Event[], mediaType: EnvelopeMediaType = v1) =>
  encodeEnvelope({ events }, { mediaType }).replaceAll("\ufffd", "\\ufffd");

/** The text of the one event of `body`. */
const textOf = (body: string, event: Event) => eventTexts(body, { events: [event] })[0] as string;

/** POST /v1/events with `endpoints` as RELAY_ENDPOINTS. */
function ingest(endpoints: object[], body: string, contentType = v1) {
  return withEnv(
    { RELAY_ENDPOINTS: JSON.stringify(endpoints) },
    new Request(`${relay}/v1/events`, {
      method: "POST",
      body,
      headers: { authorization: `Bearer ${secrets.ingestToken}`, "content-type": contentType },
    }),
  );
}

/** The queue ingest commits `name`'s events into (partition 0), seeing `config`. */
const queueOf = (config: Record<string, unknown>) =>
  openQueue([config], queueName(config.name as string, 0));

describe("raw bytes: ingest → EndpointQueue → receiver", () => {
  it("delivers a Go body with \\ufffd and \\u003c\\u0026\\u003e byte for byte", async () => {
    const name = uniqueName("raw");
    const config = endpointConfig(name);
    const stub = await queueOf(config);
    const body = goBody([oddEvent("team/raw")]);
    expect(body).toContain('"useragent": "e2e/\\ufffd\\ufffd \\u003cb\\u003e \\u0026 co"');
    expect((await ingest([config], body)).status).toBe(202);
    await until(stub, () => expect(receiver.on(`/${name}`)).toHaveLength(1));
    const [post] = receiver.on(`/${name}`);
    expect(post?.contentType).toBe(v1);
    expect(post?.body).toBe(body);
    await settle(stub);
  });

  it("keeps an event's own spacing and escapes; the frame is Go's", async () => {
    const name = uniqueName("spacing");
    const config = endpointConfig(name);
    const stub = await queueOf(config);
    const spaced = (id: string) =>
      `{ "id" :"${id}",\r\n\t"timestamp":"2026-11-27T10:00:00Z" , "action": "push","target":{"repository":"team/sp","tag":"v\\u0031","x":[ 1 ,{"events":[]} ]},"request":{"useragent":"a\\ufffdb \\u003c\\/\\u0026"}  }`;
    const [first, second] = [spaced(uniqueName("spaced")), spaced(uniqueName("spaced"))];
    const inGoFrame = frameEnvelope([first]);
    expect((await ingest([config], inGoFrame)).status).toBe(202);
    expect((await ingest([config], `\n{"events":[${second}]   }\n`)).status).toBe(202);
    await until(stub, () => expect(receiver.on(`/${name}`)).toHaveLength(2));
    expect(receiver.on(`/${name}`).map((post) => post.body)).toEqual([
      inGoFrame,
      frameEnvelope([second]),
    ]);
    await settle(stub);
  });

  it("batches (maxBatch 3) the texts of three registry bodies into Go's batch, byte for byte", async () => {
    const name = uniqueName("batch");
    const config = endpointConfig(name, { maxBatch: 3 });
    const stub = await queueOf(config);
    await stub.pause("collect a batch");
    const events = [oddEvent("team/b"), makeEvent("team/b"), oddEvent("team/b")];
    for (const event of events) {
      expect((await ingest([config], goBody([event]))).status).toBe(202);
    }
    // The admin listing reads the target's fields from the stored texts.
    const { items } = await stub.list({ state: "pending" });
    expect(items.map((item) => [item.id, item.tag, item.digest, item.mediaType])).toEqual(
      events.map((e) => [e.id, e.target.tag, e.target.digest, e.target.mediaType]),
    );
    await stub.resume();
    await until(stub, () => expect(receiver.on(`/${name}`)).toHaveLength(1));
    expect(receiver.on(`/${name}`)[0]?.body).toBe(goBody(events));
    await settle(stub);
  });

  it("re-encodes only where the line changes: plain JSON to a v2 endpoint", async () => {
    const name = uniqueName("line");
    const config = endpointConfig(name, { mediaType: v2, maxBatch: 2 });
    const stub = await queueOf(config);
    await stub.pause("collect");
    const plain = [oddEvent("team/l"), makeEvent("team/l")];
    const v2Event = oddEvent("team/l");
    expect(
      (await ingest([config], JSON.stringify({ events: plain }), "application/json")).status,
    ).toBe(202);
    expect((await ingest([config], goBody([v2Event], v2), v2)).status).toBe(202);
    await stub.resume();
    await until(stub, () => expect(receiver.on(`/${name}`)).toHaveLength(2));
    const posts = receiver.on(`/${name}`);
    // application/json has no line of its own: written on the endpoint's (Go writes U+FFFD raw).
    expect([posts[0]?.contentType, posts[0]?.body]).toEqual([
      v2,
      encodeEnvelope({ events: plain }, { mediaType: v2 }),
    ]);
    // A v2 body stays the registry's bytes.
    expect([posts[1]?.contentType, posts[1]?.body]).toEqual([v2, goBody([v2Event], v2)]);
    await settle(stub);
  });

  it("replays a dead letter's text as it was received", async () => {
    const name = uniqueName("replay");
    const config = endpointConfig(name);
    const stub = await queueOf(config);
    receiver.answer(`/${name}`, (n) => new Response(null, { status: n === 1 ? 400 : 200 }));
    const event = oddEvent("team/r");
    expect((await ingest([config], goBody([event]))).status).toBe(202);
    await until(stub, async () => expect((await stub.status()).deadLetters).toBe(1));
    expect(await stub.replay({ ids: [event.id] })).toEqual({ replayed: 1 });
    await until(stub, () => expect(receiver.on(`/${name}`)).toHaveLength(2));
    expect(receiver.on(`/${name}`).map((post) => post.body)).toEqual([
      goBody([event]),
      goBody([event]),
    ]);
    await settle(stub);
  });
});

describe("raw bytes: rows stored before texts were kept", () => {
  it("migrates the table and delivers an old row (a JSON value) re-encoded, as before", async () => {
    const name = uniqueName("legacy");
    const stub = await openQueue([endpointConfig(name, { maxBatch: 3 })]);
    await stub.pause("set up an old row");
    const old = oddEvent("team/old");
    // The database as the previous release left it: schema version 1, no `raw` column, and a row
    // whose body is JSON.stringify of the parsed event; then the migration a restart runs.
    const version = await runInDurableObject(stub, (_: EndpointQueue, state) => {
      const { sql } = state.storage;
      sql.exec("ALTER TABLE events DROP COLUMN raw");
      sql.exec("UPDATE schema_version SET version = 1");
      sql.exec(
        `INSERT INTO events (id, action, repository, media_type, body, accepted_at, next_attempt_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        old.id,
        old.action,
        old.target.repository,
        v1,
        JSON.stringify(old),
        Date.now(),
        Date.now(),
      );
      sql.exec("INSERT INTO seen (id, accepted_at) VALUES (?, ?)", old.id, Date.now());
      return migrate(state.storage);
    });
    expect(version).toBe(2);
    // Then a registry's text, and a parsed event handed to enqueue without one (stored as its
    // JSON value, like the old row).
    const fresh = oddEvent("team/old");
    const parsed = oddEvent("team/old");
    const text = textOf(goBody([fresh]), fresh);
    const queued = { id: fresh.id, action: "pull", repository: "team/old", text };
    const events = [queued, parsed];
    await stub.enqueue({ endpoint: name, partition: 0, mediaType: v1, events });
    const { items } = await stub.list({ state: "pending" });
    expect(items.map((item) => [item.id, item.tag, item.digest])).toEqual(
      [old, fresh, parsed].map((e) => [e.id, e.target.tag, e.target.digest]),
    );
    await stub.resume();
    await until(stub, () => expect(receiver.on(`/${name}`)).toHaveLength(1));
    // One batch: the old and the parsed rows written by the encoder (which writes U+FFFD raw, as
    // Go does for a valid one), the text as received.
    const encoded = (e: Event) => textOf(encodeEnvelope({ events: [e] }), e);
    expect(receiver.on(`/${name}`)[0]?.body).toBe(
      frameEnvelope([encoded(old), text, encoded(parsed)]),
    );
    expect(encoded(old)).toContain("e2e/\ufffd\ufffd \\u003cb\\u003e");
    await settle(stub);
  });
});
