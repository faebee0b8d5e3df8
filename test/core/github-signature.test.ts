import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { verifyGitHubSignature } from "../../src/webhooks/github.ts";

// GitHub's own example (docs.github.com, "Validating webhook deliveries").
const secret = "It's a Secret to Everybody";
const body = "Hello, World!";
const signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

describe("verifyGitHubSignature", () => {
  it("accepts GitHub's documented example, from a string, bytes or a buffer", async () => {
    const bytes = new TextEncoder().encode(body);
    for (const input of [body, bytes, bytes.buffer]) {
      assert.equal(await verifyGitHubSignature(secret, input, signature), true);
    }
    assert.equal(
      await verifyGitHubSignature(
        secret,
        body,
        signature.toUpperCase().replace("SHA256", "sha256"),
      ),
      true,
    );
    assert.equal(await verifyGitHubSignature(secret, body, ` ${signature} `), true);
  });

  it("refuses a wrong body, secret or signature, and any malformed header", async () => {
    assert.equal(await verifyGitHubSignature(secret, `${body} `, signature), false);
    assert.equal(await verifyGitHubSignature(`${secret}!`, body, signature), false);
    const flipped = `${signature.slice(0, -1)}${signature.endsWith("7") ? "8" : "7"}`;
    for (const header of [
      flipped,
      null,
      undefined,
      "",
      "sha256=",
      signature.slice(7),
      `sha1=${signature.slice(7)}`,
      `${signature}00`,
      signature.replace("sha256=", "sha256:"),
    ]) {
      assert.equal(await verifyGitHubSignature(secret, body, header), false, String(header));
    }
  });

  it("refuses an empty secret as a configuration error", async () => {
    await assert.rejects(() => verifyGitHubSignature("", body, signature), TypeError);
  });
});
