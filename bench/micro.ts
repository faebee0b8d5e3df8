// In-process comparisons: parse, encode and webhook verification against their bare baselines.
import { Buffer } from "node:buffer";
import { Webhook } from "standardwebhooks";
import {
  type Envelope,
  encodeEnvelope,
  parseEnvelope,
  signWebhook,
  verifyWebhook,
} from "../src/index.ts";
import type { Fixture } from "./fixtures.ts";
import { totalBytes } from "./fixtures.ts";
import { compareSlices } from "./harness.ts";
import { perSecond, type Row } from "./report.ts";

export interface MicroOptions {
  rounds: number;
  sliceMs: number;
}

const MB = 1e6;
const utf8 = new TextEncoder();
// Keeps results alive so no engine can skip the work.
let blackhole = 0;

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/** parseEnvelope over every fixture vs JSON.parse, both from bytes (UTF-8 decode included). */
export async function benchParse(fixtures: Fixture[], options: MicroOptions): Promise<Row[]> {
  const bytes = totalBytes(fixtures);
  const decoder = new TextDecoder();
  const bodies = fixtures.map((fixture) => fixture.bytes);
  const texts = bodies.map((body) => decoder.decode(body));
  for (const [index, body] of bodies.entries()) {
    // A fixture our parser refused would make the comparison meaningless: fail loudly.
    if (parseEnvelope(body).events.length === 0) {
      throw new Error(`bench: ${fixtures[index]?.name} has no events`);
    }
  }
  const fromBytes = await compareSlices(
    {
      op: () => {
        for (const body of bodies) blackhole += parseEnvelope(body).events.length;
      },
      unitsPerOp: bytes,
    },
    {
      op: () => {
        for (const body of bodies) blackhole += JSON.parse(decoder.decode(body)).events.length;
      },
      unitsPerOp: bytes,
    },
    options,
  );
  const fromText = await compareSlices(
    {
      op: () => {
        for (const text of texts) blackhole += parseEnvelope(text).events.length;
      },
      unitsPerOp: bytes,
    },
    {
      op: () => {
        for (const text of texts) blackhole += JSON.parse(text).events.length;
      },
      unitsPerOp: bytes,
    },
    options,
  );
  const envelopesPerSecond = (ops: number) => ({ value: ops * fixtures.length, unit: "env/s" });
  const rows: Row[] = [];
  for (const [result, id, label, notes, target] of [
    [
      fromBytes,
      "parse",
      "parseEnvelope vs JSON.parse (bytes in)",
      [
        `${fixtures.length} fixtures (${kb(bytes)}) as Uint8Array; one op = all of them`,
        "both sides decode UTF-8: ours parseEnvelope(bytes) (fatal TextDecoder + JSON.parse +",
        "validation); baseline JSON.parse(new TextDecoder().decode(bytes)), no validation",
      ],
      0.5,
    ],
    [
      fromText,
      "parse-text",
      "parseEnvelope vs JSON.parse (string in)",
      ["the same bodies already decoded: the cost of validation alone"],
      undefined,
    ],
  ] as const) {
    const figures = perSecond(result, MB, "MB/s");
    rows.push({
      id,
      label,
      notes: [...notes],
      ours: [figures.ours, envelopesPerSecond(result.ours.median)],
      baseline: [figures.baseline, envelopesPerSecond(result.baseline.median)],
      ratio: result.ratio,
      ratios: result.ratios,
      ...(target !== undefined && { target }),
    });
  }
  return rows;
}

/** encodeEnvelope vs JSON.stringify(x, null, 3) on the parsed fixtures. */
export async function benchEncode(fixtures: Fixture[], options: MicroOptions): Promise<Row[]> {
  const decoder = new TextDecoder();
  const envelopes: Envelope[] = fixtures.map((fixture) => parseEnvelope(fixture.bytes));
  for (const [index, envelope] of envelopes.entries()) {
    // The comparison is only honest if ours writes what distribution wrote.
    const fixture = fixtures[index] as Fixture;
    if (encodeEnvelope(envelope) !== decoder.decode(fixture.bytes)) {
      throw new Error(
        `bench: encodeEnvelope(parseEnvelope(${fixture.name})) is not byte-identical`,
      );
    }
  }
  const oursBytes = envelopes.reduce((n, e) => n + utf8.encode(encodeEnvelope(e)).length, 0);
  const baselineBytes = envelopes.reduce(
    (n, e) => n + utf8.encode(JSON.stringify(e, null, 3)).length,
    0,
  );
  const result = await compareSlices(
    {
      op: () => {
        for (const envelope of envelopes) blackhole += encodeEnvelope(envelope).length;
      },
      unitsPerOp: oursBytes,
    },
    {
      op: () => {
        for (const envelope of envelopes) blackhole += JSON.stringify(envelope, null, 3).length;
      },
      unitsPerOp: baselineBytes,
    },
    options,
  );
  const figures = perSecond(result, MB, "MB/s");
  return [
    {
      id: "encode",
      label: "encodeEnvelope vs JSON.stringify(x, null, 3)",
      notes: [
        `the ${fixtures.length} parsed fixtures; one op = all of them, string out (no UTF-8 encode)`,
        `ours is byte-identical to the fixtures (${kb(oursBytes)}, checked); the baseline writes`,
        `${kb(baselineBytes)} in the object's own key order without Go's escaping`,
      ],
      // The ratio is of env/s (the same unit on both sides); MB/s counts each side's own output.
      ours: [{ value: result.ours.median * fixtures.length, unit: "env/s" }, figures.ours],
      baseline: [
        { value: result.baseline.median * fixtures.length, unit: "env/s" },
        figures.baseline,
      ],
      ratio: result.ratio,
      ratios: result.ratios,
      target: 0.5,
    },
  ];
}

/** A valid JSON envelope of exactly `size` bytes: fixture events, then padding whitespace. */
function bodyOfSize(envelopes: Envelope[], size: number): Uint8Array {
  const events = envelopes.flatMap((envelope) => envelope.events);
  const chosen: Envelope["events"] = [];
  let text = encodeEnvelope({ events: [] });
  for (let i = 0; events.length > 0; i++) {
    const event = events[i % events.length] as Envelope["events"][number];
    const candidate = encodeEnvelope({ events: [...chosen, event] });
    if (utf8.encode(candidate).length > size) break;
    chosen.push(event);
    text = candidate;
  }
  const bytes = utf8.encode(text);
  if (bytes.length > size) throw new Error(`bench: cannot build a ${size}-byte body`);
  return utf8.encode(text + " ".repeat(size - bytes.length));
}

/** The Standard Webhooks spec's example secret (delivery-anchors.md). */
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/** verifyWebhook vs the standardwebhooks package, same secret, headers and body bytes. */
export async function benchVerify(
  fixtures: Fixture[],
  options: MicroOptions,
  sizes: readonly number[] = [1024, 64 * 1024],
): Promise<Row[]> {
  const envelopes = fixtures.map((fixture) => parseEnvelope(fixture.bytes));
  const decoder = new TextDecoder();
  const theirs = new Webhook(secret);
  const rows: Row[] = [];
  for (const size of sizes) {
    // A Buffer: what a Node receiver holds, and the only byte type standardwebhooks accepts.
    // Ours takes the very same object (a Uint8Array).
    const body = Buffer.from(bodyOfSize(envelopes, size));
    const headers: Record<string, string> = {
      ...(await signWebhook({
        secret,
        id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp: new Date(),
        body,
      })),
    };
    // Same headers must verify on both sides, and both must sign alike.
    await verifyWebhook({ secret, headers, body });
    theirs.verify(body, headers);
    const theirSignature = theirs.sign(
      headers["webhook-id"] as string,
      new Date(Number(headers["webhook-timestamp"]) * 1000),
      body,
    );
    if (theirSignature !== headers["webhook-signature"]) {
      throw new Error("bench: standardwebhooks and signWebhook disagree on the signature");
    }
    const label = size >= 1024 ? `${size / 1024} KB` : `${size} B`;
    const verifyAndParse = await compareSlices(
      {
        op: async () => {
          await verifyWebhook({ secret, headers, body });
          blackhole += JSON.parse(decoder.decode(body)).events.length;
        },
        unitsPerOp: size,
      },
      {
        op: () => {
          blackhole += (theirs.verify(body, headers) as Envelope).events.length;
        },
        unitsPerOp: size,
      },
      options,
    );
    const verifyOnly = await compareSlices(
      {
        op: async () => {
          blackhole += (await verifyWebhook({ secret, headers, body })).timestamp;
        },
        unitsPerOp: size,
      },
      {
        op: () => {
          blackhole += (theirs.verify(body, headers) as Envelope).events.length;
        },
        unitsPerOp: size,
      },
      options,
    );
    for (const [result, id, title, notes, target] of [
      [
        verifyAndParse,
        `verify-${size}`,
        `verifyWebhook vs standardwebhooks, ${label}`,
        [
          "same secret, headers and Buffer body; both end with the parsed JSON: theirs.verify()",
          "parses the payload itself, so ours is `await verifyWebhook(...)` + JSON.parse(decode);",
          "ours hashes bodies up to 8 KB in sync JS (key schedule cached per secret) and larger",
          "ones with Web Crypto (native, one await); theirs is sync JS (fast-sha256);",
          "target 1.0x = parity with the reference package at every size",
        ],
        1,
      ],
      [
        verifyOnly,
        `verify-only-${size}`,
        `  verifyWebhook alone vs standardwebhooks, ${label}`,
        ["ours without the JSON.parse (theirs still parses): what a receiver pays to verify"],
        undefined,
      ],
    ] as const) {
      const mb = perSecond(result, MB, "MB/s");
      rows.push({
        id,
        label: title,
        notes: [...notes],
        ours: [{ value: result.ours.median, unit: "ops/s" }, mb.ours],
        baseline: [{ value: result.baseline.median, unit: "ops/s" }, mb.baseline],
        ratio: result.ratio,
        ratios: result.ratios,
        ...(target !== undefined && { target }),
      });
    }
  }
  if (blackhole === -1) console.log(blackhole);
  return rows;
}
