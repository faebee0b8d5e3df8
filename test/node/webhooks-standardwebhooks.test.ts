// Cross-check of src/webhooks/webhooks.ts against the reference `standardwebhooks` package (Node only:
// it is typed against Buffer and signs strings, so this file cannot live in test/core).
import { randomBytes, randomInt } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhook } from "../../src/webhooks/webhooks.ts";

function randomCase() {
  const secret = `whsec_${randomBytes(randomInt(24, 65)).toString("base64")}`;
  const id = `msg_${randomBytes(12).toString("base64url").replaceAll(".", "")}`;
  const text = randomBytes(randomInt(0, 300)).toString("base64");
  const body = JSON.stringify({ text, emoji: "🐳 ünïcödé", n: randomInt(0, 2 ** 40) });
  return { secret, id, body };
}

describe("src/webhooks/webhooks.ts against standardwebhooks@1.0.0", () => {
  it("produces the reference signature for 200 random secrets, ids and bodies", async () => {
    for (let i = 0; i < 200; i++) {
      const { secret, id, body } = randomCase();
      const timestamp = randomInt(1_000_000_000, 2_000_000_000);
      const ours = await signWebhook({ secret, id, timestamp, body });
      const theirs = new Webhook(secret).sign(id, new Date(timestamp * 1000), body);
      expect(ours["webhook-signature"]).toBe(theirs);
      // Raw base64 secrets (no prefix) are the same key.
      const bare = await signWebhook({ secret: secret.slice(6), id, timestamp, body });
      expect(bare["webhook-signature"]).toBe(theirs);
    }
  });

  it("each side verifies what the other signed, including rotation headers", async () => {
    for (let i = 0; i < 50; i++) {
      const { secret, id, body } = randomCase();
      const old = randomCase().secret;
      const now = new Date();
      const ours = await signWebhook({ secret: [old, secret], id, timestamp: now, body });
      expect(new Webhook(secret).verify(body, { ...ours })).toEqual(JSON.parse(body));
      expect(new Webhook(old).verify(body, { ...ours })).toEqual(JSON.parse(body));

      const signature = new Webhook(secret).sign(id, now, body);
      const headers = {
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
        "webhook-signature": signature,
      };
      await expect(verifyWebhook({ secret, headers, body })).resolves.toMatchObject({ id });
      await expect(verifyWebhook({ secret: old, headers, body })).rejects.toMatchObject({
        reason: "no-matching-signature",
      });
      expect(() => new Webhook(old).verify(body, headers)).toThrow(/No matching signature/);
    }
  });

  it("agrees on bodies either side of the small-body path (0 B to 20 KB)", async () => {
    for (let i = 0; i < 60; i++) {
      const { secret, id } = randomCase();
      const size =
        i < 20 ? randomInt(0, 200) : i < 40 ? randomInt(7_900, 8_400) : randomInt(0, 20_000);
      const body = JSON.stringify({ pad: "x".repeat(size) });
      const timestamp = randomInt(1_000_000_000, 2_000_000_000);
      const ours = await signWebhook({ secret, id, timestamp, body: Buffer.from(body) });
      expect(ours["webhook-signature"]).toBe(
        new Webhook(secret).sign(id, new Date(timestamp * 1000), body),
      );
      await expect(
        verifyWebhook({ secret, headers: ours, body, now: timestamp }),
      ).resolves.toMatchObject({ id, timestamp });
    }
  });

  it("agrees on Buffer bodies (signed as their bytes)", async () => {
    const { secret, id, body } = randomCase();
    const buffer = Buffer.from(body);
    const ours = await signWebhook({ secret, id, timestamp: new Date(), body: buffer });
    expect(new Webhook(secret).verify(buffer, { ...ours })).toEqual(JSON.parse(body));
  });
});
