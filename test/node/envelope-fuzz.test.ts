// Fuzzing parseEnvelope with mutants of the captured distribution bodies (test/support/fuzz.ts):
// whatever the bytes, only an EnvelopeError comes out, and every accepted body encodes on both
// lines, within the limits, re-encodes to the same bytes, and is stored within MAX_EVENT_BYTES or
// refused as too large. Seeded: FUZZ_SEED=<n> reruns a run
// (FUZZ_SEED=random picks one), FUZZ_CASES=<n> changes its length. Node only: it reads the
// fixtures from disk and runs for about 10-30 s.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { EventsMediaType, EventsMediaTypeV2 } from "../../src/event/constants.ts";
import {
  EnvelopeError,
  encodeEnvelope,
  eventTexts,
  MAX_EVENT_BYTES,
  MAX_EVENT_KEY_BYTES,
  MAX_JSON_DEPTH,
  parseEnvelope,
  safeParseEnvelope,
} from "../../src/event/envelope.ts";
import { type Envelope, EventSchema } from "../../src/event/schema.ts";
import { distributionFixtureNames, distributionFixturesDir } from "../fixtures/paths.mjs";
import { DEFAULT_FUZZ_SEED, fuzzCase, type MutationKind, mutationKinds } from "../support/fuzz.ts";

const seed =
  process.env.FUZZ_SEED === "random"
    ? Math.floor(Math.random() * 2 ** 32)
    : Number(process.env.FUZZ_SEED ?? DEFAULT_FUZZ_SEED) >>> 0;
const cases = Number(process.env.FUZZ_CASES ?? 20_000);
const lines = [EventsMediaType, EventsMediaTypeV2] as const;
/** Accepted bodies whose events eventTexts refused as too large to store. */
let storeRefusals = 0;

const bases = distributionFixtureNames().map(
  (name) => new Uint8Array(readFileSync(join(distributionFixturesDir, name))),
);

const utf8 = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true });

/** Levels of arrays and objects in `value` (the root counting 1), without recursion. */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [item, level] = top;
    if (typeof item !== "object" || item === null) continue;
    deepest = Math.max(deepest, level);
    for (const child of Object.values(item)) stack.push([child, level + 1]);
  }
  return deepest;
}

/** What one case must satisfy; returns "accepted" or the first issue's message. */
function check(bytes: Uint8Array, label: string): string {
  let envelope: Envelope;
  try {
    envelope = parseEnvelope(bytes);
  } catch (error) {
    if (!(error instanceof EnvelopeError)) throw new Error(`${label}: threw ${error}`);
    expect(error.issues.length, label).toBeGreaterThan(0);
    const verdict = safeParseEnvelope(bytes);
    expect(verdict.success, label).toBe(false);
    return (error.issues[0]?.message ?? "").replace(/\d+/g, "N").slice(0, 60);
  }
  expect(safeParseEnvelope(bytes).success, label).toBe(true);
  // The same verdict for the body as a string, when it is UTF-8.
  let text: string | undefined;
  try {
    text = strict.decode(bytes);
  } catch {}
  if (text !== undefined) expect(safeParseEnvelope(text).success, label).toBe(true);
  expect(depthOf(envelope), label).toBeLessThanOrEqual(MAX_JSON_DEPTH);
  for (const mediaType of lines) {
    const once = encodeEnvelope(envelope, { mediaType });
    const again = encodeEnvelope(parseEnvelope(once), { mediaType });
    if (again !== once) {
      expect.fail(`${label}: ${mediaType} re-encodes differently:\n${once}\n---\n${again}`);
    }
  }
  // What a store keeps: each event's text within MAX_EVENT_BYTES, or a 413-type refusal.
  try {
    for (const stored of eventTexts(bytes, envelope)) {
      expect(utf8.encode(stored).length, label).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    }
  } catch (error) {
    if (!(error instanceof EnvelopeError && error.tooLarge)) throw new Error(`${label}: ${error}`);
    expect(bytes.length, label).toBeGreaterThan(MAX_EVENT_BYTES);
    storeRefusals++;
  }
  for (const event of envelope.events) {
    expect(utf8.encode(event.id).length, label).toBeLessThanOrEqual(MAX_EVENT_KEY_BYTES);
    // The relay's queue validates what ingest hands it with the valibot schema: an event the
    // parser accepts and the schema refuses would be a 202 that cannot be stored.
    if (!v.is(EventSchema, event)) {
      const issue = v.safeParse(EventSchema, event).issues?.[0];
      expect.fail(`${label}: accepted, but EventSchema refuses it: ${issue?.message}`);
    }
  }
  return "accepted";
}

/** The run in a few lines: the seed to rerun it, verdicts by mutation kind, top refusals. */
function verdictTable({
  seconds,
  accepted,
  byKind,
  verdicts,
}: {
  seconds: string;
  accepted: number;
  byKind: Map<MutationKind, { accepted: number; refused: number }>;
  verdicts: Map<string, number>;
}): string {
  const kinds = [...byKind];
  const row = (label: string, cell: (counts: { accepted: number; refused: number }) => number) =>
    `  ${label.padEnd(8)}${kinds
      .map(([kind, counts]) => String(cell(counts)).padStart(Math.max(kind.length, 4) + 1))
      .join("")}`;
  const refusals = [...verdicts]
    .filter(([verdict]) => verdict !== "accepted")
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([verdict, count]) => `    ${String(count).padStart(5)} ${verdict}`.trimEnd());
  return [
    `envelope fuzz: ${cases} cases in ${seconds} s, ${accepted} accepted, ${cases - accepted} refused (rerun: FUZZ_SEED=${seed} FUZZ_CASES=${cases})`,
    `  ${"".padEnd(8)}${kinds.map(([kind]) => kind.padStart(Math.max(kind.length, 4) + 1)).join("")}`,
    row("accepted", (counts) => counts.accepted),
    row("refused", (counts) => counts.refused),
    "  most frequent refusals:",
    ...refusals,
  ].join("\n");
}

describe("parseEnvelope fuzz (mutated distribution 2.8.2 bodies)", () => {
  it(`${cases} mutants: only EnvelopeError, and accepted ones encode stably on v1 and v2`, () => {
    expect(bases.length).toBe(79);
    const started = performance.now();
    const verdicts = new Map<string, number>();
    const byKind = new Map<MutationKind, { accepted: number; refused: number }>();
    for (const kind of mutationKinds) byKind.set(kind, { accepted: 0, refused: 0 });
    for (let index = 0; index < cases; index++) {
      const mutant = fuzzCase(bases, seed, index);
      const label = `case ${index} (seed ${seed}, base ${mutant.base}, ${mutant.kinds.join("+")})`;
      const verdict = check(mutant.bytes, label);
      verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
      for (const kind of mutant.kinds) {
        const counts = byKind.get(kind) as { accepted: number; refused: number };
        if (verdict === "accepted") counts.accepted++;
        else counts.refused++;
      }
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const accepted = verdicts.get("accepted") ?? 0;
    console.log(verdictTable({ seconds, accepted, byKind, verdicts }));
    // The corpus exercises both sides, and each limit.
    expect(accepted).toBeGreaterThan(cases / 10);
    expect(cases - accepted).toBeGreaterThan(cases / 10);
    if (cases >= 20_000) {
      // MAX_EVENT_BYTES is the store's limit (eventTexts), not the parser's.
      expect(storeRefusals, "MAX_EVENT_BYTES refusals by eventTexts").toBeGreaterThan(0);
      for (const limit of ["MAX_JSON_DEPTH", "MAX_EVENT_KEY_BYTES"]) {
        expect(
          [...verdicts.keys()].some((verdict) => verdict.includes(limit)),
          limit,
        ).toBe(true);
      }
    }
  }, 180_000);
});
