import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EventsMediaType, EventsMediaTypeV2 } from "../../src/event/constants.ts";
import {
  EnvelopeError,
  encodeEnvelope,
  eventText,
  eventTexts,
  frameEnvelope,
  MAX_EVENT_BYTES,
  parseEnvelope,
  safeParseEnvelope,
} from "../../src/event/envelope.ts";
import type { Envelope, Event } from "../../src/event/schema.ts";
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
      const why = `case ${index} (${kinds.join(", ")})`;
      let texts: string[];
      try {
        texts = eventTexts(bytes, result.envelope);
      } catch (error) {
        // Only an event too large to store, by both its text and its encoding.
        assert.ok(error instanceof EnvelopeError && error.tooLarge, `${why}: ${error}`);
        assert.ok(bytes.length > MAX_EVENT_BYTES, why);
        continue;
      }
      assert.deepEqual(
        texts.map((text) => JSON.parse(text)),
        events,
        why,
      );
      assert.deepEqual(JSON.parse(frameEnvelope(texts)), { events }, why);
    }
    assert.ok(accepted > 300, `only ${accepted} accepted`);
  });

  it("MAX_EVENT_BYTES: keeps a text of exactly 1 MiB, and refuses an event whose text and encoding are longer (tooLarge)", () => {
    assert.equal(MAX_EVENT_BYTES, 1024 * 1024);
    const bytes = (text: string) => new TextEncoder().encode(text).length;
    const event = (filler: string, where: "tag" | "unknown"): Record<string, unknown> => {
      const target: Record<string, unknown> = { repository: "r" };
      const made: Record<string, unknown> = {
        id: "e1",
        timestamp: "2024-05-02T10:15:04Z",
        action: "push",
        target,
      };
      if (where === "tag") target.tag = filler;
      else made.blob = filler;
      return made;
    };
    // The text as received, of characters of 1 to 4 UTF-8 bytes, padded with ASCII to the byte.
    for (const character of ["a", "<", "é", "😀"]) {
      for (const where of ["tag", "unknown"] as const) {
        const label = `${character} in ${where}`;
        const textOf = (filler: string) => JSON.stringify(event(filler, where));
        const size = bytes(textOf(""));
        const filler = character.repeat(Math.floor((MAX_EVENT_BYTES - size) / bytes(character)));
        const atLimit = filler + "a".repeat(MAX_EVENT_BYTES - bytes(textOf(filler)));
        const body = `{"events":[${textOf(atLimit)}]}`;
        const [text] = eventTexts(body, parseEnvelope(body));
        assert.equal(bytes(text as string), MAX_EVENT_BYTES, label);
        // One byte more: the text is over, and the event's encoding (longer) too.
        const over = `{"events":[${textOf(`${atLimit}a`)}]}`;
        const envelope = parseEnvelope(over); // parsing alone does not limit sizes
        assert.throws(
          () => eventTexts(over, envelope),
          (error) =>
            error instanceof EnvelopeError &&
            error.tooLarge &&
            error.issues.length === 1 &&
            error.issues[0]?.path === "events[0]" &&
            /^encodes to \d+ bytes, over MAX_EVENT_BYTES \(1048576\)$/.test(
              error.issues[0].message,
            ),
          label,
        );
      }
    }
    // Every event at fault is named; the others are fine.
    const big = JSON.stringify(event("x".repeat(MAX_EVENT_BYTES), "unknown"));
    const small = JSON.stringify(event("", "tag"));
    const body = `{"events":[${small},${big},${small},${big}]}`;
    assert.throws(
      () => eventTexts(body, parseEnvelope(body)),
      (error) =>
        error instanceof EnvelopeError &&
        error.tooLarge &&
        error.issues.map((issue) => issue.path).join() === "events[1],events[3]",
    );
  });

  it("eventText: an event's encoding on its line, refused over MAX_EVENT_BYTES", () => {
    const event = {
      id: "e1",
      timestamp: "2024-05-02T10:15:04Z",
      action: "push",
      target: { repository: "r", tag: "v1" },
    };
    for (const mediaType of [EventsMediaType, EventsMediaTypeV2] as const) {
      const golden = encodeEnvelope({ events: [event] } as Envelope, { mediaType });
      assert.equal(frameEnvelope([eventText(event, mediaType)]), golden);
    }
    // Exactly at the limit as encoded.
    const around = eventText({ ...event, blob: "" }).length;
    const fits = { ...event, blob: "b".repeat(MAX_EVENT_BYTES - around) };
    assert.equal(new TextEncoder().encode(eventText(fits)).length, MAX_EVENT_BYTES);
    const over = { ...fits, blob: `${fits.blob}<` }; // "<" is written \u003c: 6 bytes
    assert.throws(
      () => eventText(over, EventsMediaType, "events[7]"),
      (error) =>
        error instanceof EnvelopeError &&
        error.tooLarge &&
        error.issues[0]?.path === "events[7]" &&
        error.issues[0].message ===
          `encodes to ${MAX_EVENT_BYTES + 6} bytes, over MAX_EVENT_BYTES (${MAX_EVENT_BYTES})`,
    );
    assert.throws(() => eventText({ ...event, bad: Number.NaN }), TypeError);
  });

  it("refuses a body that does not hold the envelope's events", () => {
    const envelope = parseEnvelope(goBatch);
    assert.throws(() => eventTexts(goSingle(first), envelope), TypeError);
    assert.throws(() => eventTexts("not json", envelope), TypeError);
    assert.throws(() => eventTexts(new Uint8Array([0xff]), envelope), TypeError);
    assert.throws(() => eventTexts({} as unknown as string, envelope), TypeError);
  });
});
