// The Worker half of the envelope fuzz (test/node/envelope-fuzz.test.ts): mutants of the
// captured bodies, from the same mutator and seed, posted through POST /v1/events. Whatever
// parseEnvelope accepts is answered 202 and every one of its events reaches a receiver; whatever
// it refuses is answered 400 (413 for a size limit or a body over the limit) with a JSON error.
import { describe, expect, it } from "vitest";
import { EventsMediaType, EventsMediaTypeV2 } from "../../src/event/constants.ts";
import { parseEnvelope, safeParseEnvelope } from "../../src/event/envelope.ts";
import { inbox } from "../support/env.ts";
import { caseSeed, DEFAULT_FUZZ_SEED, mutate } from "../support/fuzz.ts";
import { errorOf, eventually, fixtures, type IngestResult, ingest } from "./relay-helpers.ts";

const seed =
  Number((globalThis as { process?: { env?: Record<string, string> } }).process?.env?.FUZZ_SEED) ||
  DEFAULT_FUZZ_SEED;
const maxBodyBytes = 64 * 1024; // RELAY_MAX_BODY_BYTES in vitest.project.ts
const wantAccepted = 40;
const wantRefused = 24;

/**
 * A fixture whose event ids are fresh (the queues drop ids they have seen), of the same length,
 * so the mutator hits the same offsets as in the Node run of this seed.
 */
function freshIds(bytes: Uint8Array, run: string, index: number): Uint8Array {
  let text = new TextDecoder().decode(bytes);
  for (const [n, event] of (JSON.parse(text) as { events: { id: string }[] }).events.entries()) {
    const fresh = `fz-${run}-${index}-${n}-${crypto.randomUUID()}`;
    const id = fresh.slice(0, event.id.length).padEnd(event.id.length, "0");
    text = text.replaceAll(JSON.stringify(event.id), JSON.stringify(id));
  }
  return new TextEncoder().encode(text);
}

describe("POST /v1/events with fuzzed bodies (test/support/fuzz.ts)", () => {
  it(`${wantAccepted} accepted mutants reach the receiver; refused ones get JSON errors`, async () => {
    const bases = (await fixtures()).map((fixture) => fixture.bytes);
    const run = crypto.randomUUID().slice(0, 4);
    console.log(`worker fuzz: seed ${seed}, run ${run}`);
    const expected = new Set<string>();
    let accepted = 0;
    let refused = 0;
    const statuses = new Map<number, number>();
    for (let index = 0; accepted < wantAccepted || refused < wantRefused; index++) {
      expect(index, "cases needed to find enough of each").toBeLessThan(5000);
      const own = caseSeed(seed, index);
      const base = freshIds(bases[own % bases.length] as Uint8Array, run, index);
      const { bytes, kinds } = mutate(base, own);
      const label = `case ${index} (seed ${seed}, ${kinds.join("+")})`;
      const verdict = safeParseEnvelope(bytes);
      const fits = bytes.length <= maxBodyBytes;
      if (verdict.success && fits ? accepted >= wantAccepted : refused >= wantRefused) continue;
      const mediaType = index % 2 === 0 ? EventsMediaType : EventsMediaTypeV2;
      const response = await ingest(bytes, { "content-type": mediaType });
      if (verdict.success && fits) {
        accepted++;
        expect(response.status, `${label}: ${await response.clone().text()}`).toBe(202);
        const body = (await response.json()) as IngestResult;
        expect(body.accepted, label).toBe(verdict.envelope.events.length);
        for (const event of verdict.envelope.events) expected.add(event.id);
      } else {
        refused++;
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const error = await errorOf(response);
        const sizeOnly =
          !verdict.success &&
          verdict.issues.every((issue) => / over MAX_EVENT_/.test(issue.message));
        const status = !fits || sizeOnly ? 413 : 400;
        expect(response.status, `${label}: ${error.message}`).toBe(status);
        expect([400, 413, 415]).toContain(response.status);
        expect(error.code, label).toBe(status === 413 ? "payload_too_large" : "invalid_envelope");
        if (fits && !verdict.success) expect(error.issues, label).toEqual(verdict.issues);
      }
    }
    console.log(
      `worker fuzz: ${accepted} accepted (${expected.size} events), ${refused} refused ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    expect(expected.size).toBeGreaterThanOrEqual(wantAccepted - 2); // a mutant may repeat an id

    // Every accepted event reaches the "inbox" endpoint (no ignore rules).
    let missing = [...expected];
    try {
      await eventually(async () => {
        const received = new Set<string>();
        for (const request of await inbox("worker-inbox")) {
          for (const event of parseEnvelope(request.body).events) received.add(event.id);
        }
        missing = missing.filter((id) => !received.has(id));
        return missing.length === 0 ? true : undefined;
      }, 30_000);
    } catch {}
    expect(missing, "accepted events the receiver did not get").toEqual([]);
  }, 90_000);
});
