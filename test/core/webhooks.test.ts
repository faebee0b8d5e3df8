import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  signWebhook,
  timingSafeEqual,
  verifyWebhook,
  WebhookVerificationError,
  type WebhookVerificationReason,
} from "../../src/webhooks/webhooks.ts";

// The Standard Webhooks vector, hard-coded in every reference library's tests.
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const timestamp = 1614265330;
const body = '{"test": 2432232314}';
const expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
const otherSecret = "whsec_3vs5PSxk4Tw8AXBQ6b4OL0hk9y7Fz2MN"; // also 24 bytes

const vectorHeaders = {
  "webhook-id": id,
  "webhook-timestamp": String(timestamp),
  "webhook-signature": expected,
};

const utf8 = new TextEncoder();

/** The reference signature, straight from Web Crypto, with no cache or sync path in between. */
async function referenceSignature(
  key: string,
  content: { id: string; timestamp: number; body: Uint8Array },
): Promise<string> {
  const raw = Uint8Array.from(atob(key.replace(/^whsec_/, "")), (c) => c.charCodeAt(0));
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    raw,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const prefix = utf8.encode(`${content.id}.${content.timestamp}.`);
  const signed = new Uint8Array(prefix.length + content.body.length);
  signed.set(prefix);
  signed.set(content.body, prefix.length);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, signed));
  return `v1,${btoa(String.fromCharCode(...mac))}`;
}

async function rejection(promise: Promise<unknown>): Promise<WebhookVerificationError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(
      error instanceof WebhookVerificationError,
      `not a WebhookVerificationError: ${error}`,
    );
    return error;
  }
  assert.fail("expected a rejection");
}

async function rejectsWith(promise: Promise<unknown>, reason: WebhookVerificationReason) {
  const error = await rejection(promise);
  assert.equal(error.reason, reason);
  assert.equal(error.name, "WebhookVerificationError");
  for (const leaked of [secret, secret.slice(6), otherSecret.slice(6), expected.slice(3)]) {
    assert.ok(!error.message.includes(leaked), `message leaks a secret: ${error.message}`);
  }
  return error;
}

describe("signWebhook", () => {
  it("matches the Standard Webhooks vector, with and without the whsec_ prefix", async () => {
    assert.deepEqual(await signWebhook({ secret, id, timestamp, body }), vectorHeaders);
    const bare = await signWebhook({ secret: secret.slice(6), id, timestamp, body });
    assert.equal(bare["webhook-signature"], expected);
  });

  it("signs the exact bytes of a string, Uint8Array, offset view or ArrayBuffer", async () => {
    const bytes = new TextEncoder().encode(body);
    const padded = new Uint8Array(bytes.length + 7);
    padded.set(bytes, 3);
    const view = padded.subarray(3, 3 + bytes.length);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const dataView = new DataView(padded.buffer, 3, bytes.length);
    for (const input of [bytes, view, buffer, dataView as unknown as Uint8Array]) {
      const headers = await signWebhook({ secret, id, timestamp, body: input });
      assert.equal(headers["webhook-signature"], expected);
    }
  });

  it("does not re-encode bytes that are not UTF-8", async () => {
    const raw = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    const fromBytes = await signWebhook({ secret, id, timestamp, body: raw });
    const fromLossyText = await signWebhook({
      secret,
      id,
      timestamp,
      body: new TextDecoder().decode(raw),
    });
    assert.notEqual(fromBytes["webhook-signature"], fromLossyText["webhook-signature"]);
    const now = timestamp;
    await verifyWebhook({ secret, headers: fromBytes, body: raw, now });
    await rejectsWith(
      verifyWebhook({ secret, headers: fromLossyText, body: raw, now }),
      "no-matching-signature",
    );
  });

  it("takes a Date and truncates it to whole seconds", async () => {
    const headers = await signWebhook({ secret, id, timestamp: new Date(1614265330999), body });
    assert.deepEqual(headers, vectorHeaders);
  });

  it("signs once per secret, space separated, for key rotation", async () => {
    const headers = await signWebhook({ secret: [otherSecret, secret], id, timestamp, body });
    const parts = headers["webhook-signature"].split(" ");
    assert.equal(parts.length, 2);
    assert.equal(parts[1], expected);
    assert.match(parts[0]!, /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.notEqual(parts[0], expected);
    for (const accepted of [secret, otherSecret, [otherSecret, secret]]) {
      const verified = await verifyWebhook({ secret: accepted, headers, body, now: timestamp });
      assert.deepEqual(verified, { id, timestamp });
    }
  });

  it("rejects an id with '.', a fractional or negative timestamp and a bad secret", async () => {
    await assert.rejects(signWebhook({ secret, id: "a.b", timestamp, body }), /id/);
    await assert.rejects(signWebhook({ secret, id: "", timestamp, body }), /id/);
    await assert.rejects(signWebhook({ secret, id, timestamp: 1.5, body }), /timestamp/);
    await assert.rejects(signWebhook({ secret, id, timestamp: -1, body }), /timestamp/);
    await assert.rejects(
      signWebhook({ secret, id, timestamp: new Date(Number.NaN), body }),
      /Date/,
    );
    for (const bad of ["", "whsec_", "whsec_not base64!", []]) {
      const error = await signWebhook({ secret: bad, id, timestamp, body }).then(
        () => assert.fail("signed with a bad secret"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /secret/);
      assert.ok(!error.message.includes("not base64!"));
    }
  });

  it("refuses a timestamp in milliseconds, naming timestamp and seconds", async () => {
    for (const ms of [Date.now(), timestamp * 1000, 1e11 + 1]) {
      const error = await signWebhook({ secret, id, timestamp: ms, body }).then(
        () => assert.fail(`signed with ${ms} as seconds`),
        (e: unknown) => e,
      );
      assert.ok(error instanceof RangeError, `not a RangeError: ${error}`);
      assert.match(error.message, /timestamp/);
      assert.match(error.message, /seconds/);
      assert.match(error.message, /milliseconds/);
    }
    // The largest accepted value, and a Date of now, still sign.
    const far = await signWebhook({ secret, id, timestamp: 1e11, body });
    assert.equal(far["webhook-timestamp"], "100000000000");
    const headers = await signWebhook({ secret, id, timestamp: new Date(), body });
    assert.equal(headers["webhook-timestamp"], String(Math.floor(Date.now() / 1000)));
  });

  it("signs bodies of every size like Web Crypto (both sides of the small-body path)", async () => {
    const sizes = [0, 1, 30, 31, 32, 33, 55, 56, 63, 64, 65, 119, 120, 128, 1024];
    sizes.push(8 * 1024 - 40, 8 * 1024 - 29, 8 * 1024 - 28, 8 * 1024 + 1, 64 * 1024, 100_003);
    for (const size of sizes) {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 31 + size) & 0xff;
      for (const key of [secret, otherSecret, btoa("k".repeat(64)), btoa("long".repeat(40))]) {
        const headers = await signWebhook({ secret: key, id, timestamp, body: bytes });
        const reference = await referenceSignature(key, { id, timestamp, body: bytes });
        assert.equal(headers["webhook-signature"], reference, `size ${size}`);
        await verifyWebhook({ secret: key, headers, body: bytes, now: timestamp });
        const flipped = bytes.slice();
        if (size > 0) {
          flipped[size - 1] = (flipped[size - 1] ?? 0) ^ 1;
          await rejectsWith(
            verifyWebhook({ secret: key, headers, body: flipped, now: timestamp }),
            "no-matching-signature",
          );
        }
      }
    }
  });
});

describe("verifyWebhook", () => {
  it("accepts the vector and returns its id and timestamp", async () => {
    const verified = await verifyWebhook({ secret, headers: vectorHeaders, body, now: timestamp });
    assert.deepEqual(verified, { id, timestamp });
  });

  it("reads Headers and case-insensitive records", async () => {
    const headers = new Headers(vectorHeaders);
    assert.deepEqual(await verifyWebhook({ secret, headers, body, now: timestamp }), {
      id,
      timestamp,
    });
    const shouting = {
      "Webhook-Id": id,
      "WEBHOOK-TIMESTAMP": String(timestamp),
      "Webhook-Signature": expected,
    };
    const now = new Date(timestamp * 1000);
    assert.deepEqual(await verifyWebhook({ secret, headers: shouting, body, now }), {
      id,
      timestamp,
    });
  });

  it("rejects a missing or empty header, naming it", async () => {
    for (const name of Object.keys(vectorHeaders)) {
      const without = { ...vectorHeaders, [name]: undefined };
      const error = await rejectsWith(
        verifyWebhook({ secret, headers: without, body, now: timestamp }),
        "missing-header",
      );
      assert.match(error.message, new RegExp(name));
      const empty = new Headers({ ...vectorHeaders, [name]: "" });
      await rejectsWith(
        verifyWebhook({ secret, headers: empty, body, now: timestamp }),
        "missing-header",
      );
    }
  });

  it("rejects a timestamp that is not whole unix seconds", async () => {
    for (const bad of ["abc", "1614265330abc", "1614265330.5", "-1614265330", " 1614265330"]) {
      const headers = { ...vectorHeaders, "webhook-timestamp": bad };
      const error = await rejectsWith(
        verifyWebhook({ secret, headers, body, now: timestamp }),
        "invalid-timestamp",
      );
      assert.match(error.message, /webhook-timestamp/);
    }
  });

  it("enforces the tolerance in both directions, inclusive at the edge", async () => {
    const check = (now: number, toleranceSeconds?: number) =>
      verifyWebhook({ secret, headers: vectorHeaders, body, now, toleranceSeconds });
    await check(timestamp + 300);
    await check(timestamp - 300);
    const old = await rejectsWith(check(timestamp + 301), "timestamp-too-old");
    assert.match(old.message, /webhook-timestamp.*old/);
    const ahead = await rejectsWith(check(timestamp - 301), "timestamp-too-new");
    assert.match(ahead.message, /webhook-timestamp.*new/);
    await check(timestamp + 3600, 3600);
    await rejectsWith(check(timestamp + 11, 10), "timestamp-too-old");
    await check(timestamp + 10 * 365 * 86400, Number.POSITIVE_INFINITY);
    await assert.rejects(check(timestamp, -1), /toleranceSeconds/);
  });

  it("uses the real clock by default", async () => {
    const headers = await signWebhook({ secret, id, timestamp: new Date(), body });
    assert.equal((await verifyWebhook({ secret, headers, body })).id, id);
    await rejectsWith(verifyWebhook({ secret, headers: vectorHeaders, body }), "timestamp-too-old");
  });

  it("rejects truncated, empty, foreign-version and tampered signatures", async () => {
    const now = timestamp;
    for (const signature of [
      "v1,g0hM9SsE",
      "v1,",
      "v1",
      "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
      `v2,${expected.slice(3)}`,
      `v1a,${expected.slice(3)}`,
      `V1,${expected.slice(3)}`,
      "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",
      "v1,h0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
      "v1,!!!notbase64!!!",
    ]) {
      const headers = { ...vectorHeaders, "webhook-signature": signature };
      const verify = verifyWebhook({ secret, headers, body, now });
      // Missing "=" padding is still the same bytes: accept it, like a forgiving base64 decoder.
      if (signature === "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE") await verify;
      else await rejectsWith(verify, "no-matching-signature");
    }
    const tampered = await rejectsWith(
      verifyWebhook({ secret, headers: vectorHeaders, body: `${body} `, now }),
      "no-matching-signature",
    );
    // The browser admin console shows this message as is.
    assert.match(tampered.message, /no v1 signature in webhook-signature/);
    const otherId = { ...vectorHeaders, "webhook-id": "msg_other" };
    await rejectsWith(
      verifyWebhook({ secret, headers: otherId, body, now }),
      "no-matching-signature",
    );
    const otherTime = { ...vectorHeaders, "webhook-timestamp": String(timestamp + 1) };
    await rejectsWith(
      verifyWebhook({ secret, headers: otherTime, body, now }),
      "no-matching-signature",
    );
    await rejectsWith(
      verifyWebhook({ secret: otherSecret, headers: vectorHeaders, body, now }),
      "no-matching-signature",
    );
  });

  it("finds the valid signature among several and skips unknown versions", async () => {
    const signature = `v2,${expected.slice(3)} v1a,AAAA ${expected} v1,${"A".repeat(43)}=`;
    const headers = { ...vectorHeaders, "webhook-signature": signature };
    assert.deepEqual(await verifyWebhook({ secret, headers, body, now: timestamp }), {
      id,
      timestamp,
    });
    // Two signature headers folded by Headers into "a, b".
    const folded = new Headers({ "webhook-id": id, "webhook-timestamp": String(timestamp) });
    folded.append("webhook-signature", `v1,${"A".repeat(43)}=`);
    folded.append("webhook-signature", expected);
    assert.equal((await verifyWebhook({ secret, headers: folded, body, now: timestamp })).id, id);
  });

  it("rejects unusable secrets as invalid-secret without echoing them", async () => {
    const unusable: unknown[] = [
      "",
      "whsec_",
      "whsec_not base64!",
      "whsec_MfKQ9r8GK",
      [],
      [secret, ""],
    ];
    // Whitespace (a secret read from a file with its newline) and values that are not strings.
    unusable.push(`${secret}\n`, "whsec_MfKQ 9r8GKYqrTwjUPD8ILPZIo2LaLaSw", undefined, 1234, {});
    for (const bad of unusable) {
      const error = await rejectsWith(
        verifyWebhook({
          secret: bad as string,
          headers: vectorHeaders,
          body,
          now: timestamp,
        }),
        "invalid-secret",
      );
      assert.match(error.message, /secret/);
      assert.ok(!error.message.includes("not base64!"));
      assert.ok(!error.message.includes("MfKQ9r8GK"));
    }
  });

  it("rejects a body that is not bytes or text", async () => {
    const notBytes = { events: [] } as unknown as string;
    await assert.rejects(
      verifyWebhook({ secret, headers: vectorHeaders, body: notBytes, now: timestamp }),
      /body/,
    );
  });

  it("verifies many secrets in turn (beyond the key cache) and again afterwards", async () => {
    const secrets = Array.from({ length: 40 }, (_, i) => btoa(`secret-number-${i}-padding`));
    for (const s of secrets) {
      const headers = await signWebhook({ secret: s, id, timestamp, body });
      await verifyWebhook({ secret: s, headers, body, now: timestamp });
      await rejectsWith(
        verifyWebhook({ secret, headers, body, now: timestamp }),
        "no-matching-signature",
      );
    }
    await verifyWebhook({ secret, headers: vectorHeaders, body, now: timestamp });
  });

  it("refuses now in milliseconds, and still takes seconds and Dates", async () => {
    const error = await verifyWebhook({
      secret,
      headers: vectorHeaders,
      body,
      now: timestamp * 1000,
    }).then(
      () => assert.fail("verified with now in milliseconds"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RangeError, `not a RangeError: ${error}`);
    assert.match(error.message, /now/);
    assert.match(error.message, /seconds/);
    const now = new Date(timestamp * 1000);
    assert.equal((await verifyWebhook({ secret, headers: vectorHeaders, body, now })).id, id);
    // Fractional seconds (`Date.now() / 1000`) are taken and rounded down.
    const fractional = { secret, headers: vectorHeaders, body, now: timestamp + 300.9 };
    assert.equal((await verifyWebhook(fractional)).id, id);
    for (const bad of [new Date(Number.NaN), Number.NaN, Number.POSITIVE_INFINITY, "1614265330"]) {
      await assert.rejects(
        verifyWebhook({ secret, headers: vectorHeaders, body, now: bad as number }),
        (e: unknown) => e instanceof TypeError && /now/.test(e.message),
      );
    }
  });

  it("gets the same answers with the key cache warm, across secrets and rotated lists", async () => {
    // More secrets than the cache holds, visited in an order that hits, misses and evicts.
    const secrets = Array.from({ length: 24 }, (_, i) =>
      btoa(`cache-secret-${i}-`.padEnd(32, "x")),
    );
    const all = [secret, otherSecret, ...secrets];
    const order = [0, 1, 0, 2, 1, ...all.keys(), 3, 0, 25, 1, 2, ...all.keys(), 0, 1];
    const bytes = utf8.encode('{"events":[{"id":"cache"}]}');
    for (const [step, index] of order.entries()) {
      const current = all[index]!;
      const previous = all[(index + 1) % all.length]!;
      const stamp = timestamp + step;
      const content = { id, timestamp: stamp, body: bytes };
      const reference = await referenceSignature(current, content);
      const single = await signWebhook({ secret: current, ...content });
      assert.equal(single["webhook-signature"], reference, `step ${step}`);
      // Rotation: signing with [previous, current] lists both signatures in that order.
      const rotated = await signWebhook({ secret: [previous, current], ...content });
      assert.equal(
        rotated["webhook-signature"],
        `${await referenceSignature(previous, content)} ${reference}`,
      );
      const verify = (accepted: string | string[], headers: typeof single) =>
        verifyWebhook({ secret: accepted, headers, body: bytes, now: stamp });
      for (const accepted of [current, [previous, current], [current, previous]]) {
        assert.deepEqual(await verify(accepted, single), { id, timestamp: stamp });
        assert.deepEqual(await verify(accepted, rotated), { id, timestamp: stamp });
      }
      await verify(previous, rotated);
      const stranger = all[(index + 2) % all.length]!;
      await rejectsWith(verify(previous, single), "no-matching-signature");
      await rejectsWith(verify([stranger, previous], single), "no-matching-signature");
    }
  });
});

describe("timingSafeEqual", () => {
  it("compares bytes and strings", () => {
    assert.equal(timingSafeEqual("abc", "abc"), true);
    assert.equal(timingSafeEqual("abc", "abd"), false);
    assert.equal(timingSafeEqual("abc", "ab"), false);
    assert.equal(timingSafeEqual("", ""), true);
    assert.equal(timingSafeEqual("é", new Uint8Array([0xc3, 0xa9])), true);
    assert.equal(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])), true);
    assert.equal(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])), false);
    assert.equal(timingSafeEqual(new Uint8Array([0]), new Uint8Array([])), false);
    assert.equal(timingSafeEqual(new Uint8Array([]), new Uint8Array([0])), false);
  });
});
