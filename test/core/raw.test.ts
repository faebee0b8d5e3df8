import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventsMediaType, EventsMediaTypeV2 } from "../../src/event/constants.ts";
import {
  encodeEnvelope,
  eventTexts,
  frameEnvelope,
  MAX_EVENT_BYTES,
  parseEnvelope,
  safeParseEnvelope,
} from "../../src/event/envelope.ts";
import type { Event } from "../../src/event/schema.ts";
import { loadFixtures } from "../support/env.ts";
import { DEFAULT_FUZZ_SEED, fuzzCase } from "../support/fuzz.ts";
import { specTagDeleteV3 } from "../support/golden.ts";

// A registry's own bytes, end to end: eventTexts cuts each event's text from the body it came in,
// frameEnvelope puts texts back into distribution's frame.

/**
 * What distribution 2.8 writes (Go's MarshalIndent, by hand) for a pull whose User-Agent had an
 * invalid UTF-8 byte (Go writes it as `\ufffd`) and `<&>` (Go escapes them), and a second event.
 */
const goEvent = (id: string, useragent: string) => `{
         "id": "${id}",
         "timestamp": "2026-11-27T17:19:34.297644813Z",
         "action": "pull",
         "target": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "size": 563,
            "digest": "sha256:3e0ad3a67c04032083fd0cdc35d06ca1dfc2acd598205e64ac2d3342ba541af3",
            "length": 563,
            "repository": "e2e/alpha",
            "url": "http://127.0.0.1:5000/v2/e2e/alpha/manifests/v1",
            "tag": "v1"
         },
         "request": {
            "id": "c5b8c3b1-2f6e-4a53-9e55-6c2b0b6e0f11",
            "addr": "127.0.0.1:40312",
            "host": "127.0.0.1:5000",
            "method": "GET",
            "useragent": "${useragent}"
         },
         "actor": {},
         "source": {
            "addr": "host:5000",
            "instanceID": "8f4a2b9e-0d7c-4e51-a3f6-1b2c3d4e5f60"
         }
      }`;
const escapedAgent = 'e2e \\ufffd\\ufffd \\u003cb\\u003e \\u0026 \\u2028 \\\\ \\" end';
const first = goEvent("evt-1", escapedAgent);
const second = goEvent("evt-2", "skopeo/1.13");
const goSingle = (event: string) => `{\n   "events": [\n      ${event}\n   ]\n}`;
/** The two events in one envelope, as Go writes it. */
const goBatch = `{\n   "events": [\n      ${first},\n      ${second}\n   ]\n}`;

const utf8 = (text: string) => new TextEncoder().encode(text);

describe("eventTexts + frameEnvelope: the registry's bytes", () => {
  it("splices every captured fixture back byte for byte, from bytes, ArrayBuffer and text", async () => {
    for (const fixture of await loadFixtures()) {
      const envelope = parseEnvelope(fixture.bytes);
      const buffer = fixture.bytes.slice().buffer;
      for (const body of [fixture.bytes, buffer, fixture.text]) {
        const texts = eventTexts(body, envelope);
        assert.equal(texts.length, envelope.events.length);
        assert.equal(frameEnvelope(texts), fixture.text, fixture.name);
        assert.deepEqual(
          texts.map((text) => JSON.parse(text)),
          envelope.events,
        );
      }
    }
  });

  it("batches texts of Go bodies into exactly what Go writes for the batch", async () => {
    const fixtures = await loadFixtures();
    const events: Event[] = [];
    const texts: string[] = [];
    for (const fixture of fixtures) {
      const envelope = parseEnvelope(fixture.bytes);
      events.push(...envelope.events);
      texts.push(...eventTexts(fixture.bytes, envelope));
    }
    // encodeEnvelope is Go's MarshalIndent byte for byte (envelope.test.ts, against Go goldens).
    assert.equal(frameEnvelope(texts), encodeEnvelope({ events }));
    // And against a batch written by hand, from single-event envelopes.
    const cut = [first, second].map((event) => {
      const body = goSingle(event);
      return eventTexts(utf8(body), parseEnvelope(body))[0] as string;
    });
    assert.deepEqual(cut, [first, second]);
    assert.equal(frameEnvelope(cut), goBatch);
    assert.equal(frameEnvelope([]), encodeEnvelope({ events: [] }));
    assert.equal(frameEnvelope([]), '{\n   "events": []\n}');
  });

  it("keeps Go's \\ufffd and \\u003c\\u0026\\u003e escapes, which re-encoding cannot", () => {
    const body = utf8(goBatch);
    const envelope = parseEnvelope(body);
    const texts = eventTexts(body, envelope);
    assert.equal(texts[0], first);
    assert.ok(texts[0]?.includes(escapedAgent));
    assert.equal(frameEnvelope(texts), goBatch);
    // Parsed, the escape is a real U+FFFD, which Go (and encodeEnvelope) writes raw: not the bytes
    // the registry sent. Hence texts.
    assert.equal(envelope.events[0]?.request?.useragent?.slice(4, 6), "\ufffd\ufffd");
    const reencoded = encodeEnvelope(envelope);
    assert.notEqual(reencoded, goBatch);
    assert.ok(reencoded.includes("e2e \ufffd\ufffd \\u003cb\\u003e \\u0026"));
  });

  it("cuts events out of any valid body: spacing, strings full of brackets, other root keys", () => {
    const tricky = String.raw`{"id":"a]},{\"x\":[","timestamp":"2006-01-02T15:04:05Z","action":"push","target":{"repository":"r","x":"\\","q":"\"]}\\\""},"n":[{"events":[1,{}]},"]["]}`;
    const spaced = `{\r\n\t"id" :  "b" ,"timestamp":"2006-01-02T15:04:05Z",\n"action":"pull" ,\t"target" : { "repository" : "s" } }`;
    const bodies = [
      `{"before":{"events":[{"id":"no"}]},"events":[${tricky},${spaced}],"after":["events",{"events":[]}]}`,
      ` \n {  "\\u0065vents" :\r\n [ \t${tricky}  ,\n\n ${spaced}\n\t] , "x": "events" } \n`,
      `\ufeff{"events":[${tricky},${spaced}]}`,
    ];
    for (const text of bodies) {
      for (const body of [text, utf8(text)]) {
        const envelope = parseEnvelope(body);
        assert.deepEqual(eventTexts(body, envelope), [tricky, spaced]);
      }
    }
  });

  it("cuts from what was parsed: lone surrogates read as U+FFFD, as parseEnvelope does", () => {
    const event = (agent: string) =>
      `{"id":"s","timestamp":"2006-01-02T15:04:05Z","action":"pull","target":{"repository":"r"},"request":{"useragent":"${agent}"}}`;
    const cases: [string, string][] = [
      [event("a\\ud800b"), event("a\\ufffdb")], // an escaped lone surrogate: Go's reading
      [event("a\\ud83d\\ude00b"), event("a\\ud83d\\ude00b")], // a pair is kept as it is
      [event("a\ud800b"), event("a\ufffdb")], // a raw one (string input only)
    ];
    for (const [sent, cut] of cases) {
      const body = `{"events":[${sent}]}`;
      const envelope = parseEnvelope(body);
      const [text] = eventTexts(body, envelope);
      assert.equal(text, cut);
      assert.deepEqual(JSON.parse(text as string), envelope.events[0]);
      if (!/[\ud800-\udfff]/.test(sent)) assert.equal(eventTexts(utf8(body), envelope)[0], cut);
    }
  });

  it("replaces a text over MAX_EVENT_BYTES (padding) with the event's encoding on the line", () => {
    const events = [
      {
        id: "big",
        timestamp: "2006-01-02T15:04:05Z",
        action: "delete",
        target: { repository: "r", tag: "t" },
      },
    ] as Event[];
    const padded = (encoded: string) =>
      encoded.replace('"id"', `${" ".repeat(MAX_EVENT_BYTES)}"id"`);
    for (const mediaType of [EventsMediaType, EventsMediaTypeV2] as const) {
      const golden = encodeEnvelope({ events }, { mediaType });
      const body = padded(golden);
      const texts = eventTexts(body, parseEnvelope(body), { mediaType });
      assert.equal(frameEnvelope(texts), golden);
    }
    // v2's delete shape (spec): mediaType, digest and size always present.
    const v3 = specTagDeleteV3("d", "2006-01-02T15:04:05Z");
    const body = padded(v3);
    const texts = eventTexts(body, parseEnvelope(body), { mediaType: EventsMediaTypeV2 });
    assert.equal(frameEnvelope(texts), v3);
  });

  it("cuts texts that parse back to their events from every fuzzed body parseEnvelope accepts", async () => {
    const bases = (await loadFixtures()).map((fixture) => fixture.bytes);
    let accepted = 0;
    for (let index = 0; index < 1500; index++) {
      const { bytes, kinds } = fuzzCase(bases, DEFAULT_FUZZ_SEED, index);
      const result = safeParseEnvelope(bytes);
      if (!result.success) continue;
      accepted++;
      const { events } = result.envelope;
      const texts = eventTexts(bytes, result.envelope);
      const why = `case ${index} (${kinds.join(", ")})`;
      assert.deepEqual(
        texts.map((text) => JSON.parse(text)),
        events,
        why,
      );
      assert.deepEqual(JSON.parse(frameEnvelope(texts)), { events }, why);
    }
    assert.ok(accepted > 300, `only ${accepted} accepted`);
  });

  it("refuses a body that does not hold the envelope's events", () => {
    const envelope = parseEnvelope(goBatch);
    assert.throws(() => eventTexts(goSingle(first), envelope), TypeError);
    assert.throws(() => eventTexts("not json", envelope), TypeError);
    assert.throws(() => eventTexts(new Uint8Array([0xff]), envelope), TypeError);
    assert.throws(() => eventTexts({} as unknown as string, envelope), TypeError);
  });
});
