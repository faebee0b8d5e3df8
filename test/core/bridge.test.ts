import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BridgeOptions, createBridge } from "../../src/event/bridge.ts";
import { EventsMediaTypeV2 } from "../../src/event/constants.ts";
import { encodeEnvelope, parseEnvelope } from "../../src/event/envelope.ts";
import { formatTimestamp, uuidv4 } from "../../src/event/ids.ts";
import type { Descriptor, Event } from "../../src/event/schema.ts";
import { specTagDeleteV3 } from "../support/golden.ts";

// Port of distribution's notifications/bridge_test.go: the common environment of the expected
// manifest events.
const repo = "test/repo";
const source = { addr: "remote.test", instanceID: uuidv4() };
const actor = { name: "test" };
const request = {};
const tag = "latest";
const ociMediaType = "application/vnd.oci.image.manifest.v1+json";
const artifactType = "application/vnd.example.sbom.v1";
const cfg: Descriptor = { mediaType: artifactType, size: 100, digest: "cfgdgst" };

/** An OCI image manifest whose config has an artifact media type, as in createTestEnv. */
async function testManifest() {
  const payload = new TextEncoder().encode(
    JSON.stringify({ schemaVersion: 2, mediaType: ociMediaType, config: cfg, layers: [] }, null, 3),
  );
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", payload));
  const digest = `sha256:${[...hash].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  return { descriptor: { mediaType: ociMediaType, digest, size: payload.length }, payload, digest };
}

const options: BridgeOptions = {
  source,
  actor,
  request,
  baseUrl: "http://test.example.com/",
  includeReferences: true,
};

/** Go compares RequestRecord{} with struct equality: the zero value serialises like this. */
const zeroRequest = { id: "", method: "", useragent: "" };

function checkCommon(event: Event) {
  assert.deepEqual(event.source, source);
  assert.deepEqual(event.request, zeroRequest);
  assert.deepEqual(event.actor, actor);
  assert.match(event.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(event.timestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/);
  assert.equal(event.target.repository, repo);
}

async function checkCommonManifest(action: string, event: Event) {
  const { payload, digest } = await testManifest();
  checkCommon(event);
  assert.equal(event.action, action);
  assert.equal(event.target.digest, digest);
  assert.equal(event.target.length, payload.length);
  assert.equal(event.target.size, payload.length);
  assert.equal(event.target.mediaType, ociMediaType);
  assert.equal(event.target.url, `http://test.example.com/v2/test/repo/manifests/${digest}`);
  assert.deepEqual(event.target.references, [cfg]);
}

describe("bridge (distribution's TestEventBridge*)", () => {
  it("ManifestPulled", async () => {
    const { descriptor } = await testManifest();
    const event = createBridge(options).manifestPulled(repo, descriptor, { references: [cfg] });
    await checkCommonManifest("pull", event);
    assert.equal(event.target.tag, undefined);
  });

  it("ManifestPushed", async () => {
    const { descriptor } = await testManifest();
    await checkCommonManifest(
      "push",
      createBridge(options).manifestPushed(repo, descriptor, { references: [cfg] }),
    );
  });

  it("ManifestPushedWithTag", async () => {
    const { descriptor } = await testManifest();
    const event = createBridge(options).manifestPushed(repo, descriptor, {
      tag,
      references: [cfg],
    });
    await checkCommonManifest("push", event);
    assert.equal(event.target.tag, "latest");
  });

  it("ManifestPulledWithTag", async () => {
    const { descriptor } = await testManifest();
    const event = createBridge(options).manifestPulled(repo, descriptor, {
      tag,
      references: [cfg],
    });
    await checkCommonManifest("pull", event);
    assert.equal(event.target.tag, "latest");
  });

  it("ManifestDeleted", async () => {
    const { digest } = await testManifest();
    const event = createBridge(options).manifestDeleted(repo, digest);
    checkCommon(event);
    assert.equal(event.action, "delete");
    assert.deepEqual(event.target, { repository: repo, digest });
  });

  it("TagDeleted", () => {
    const event = createBridge(options).tagDeleted(repo, tag);
    checkCommon(event);
    assert.equal(event.action, "delete");
    assert.deepEqual(event.target, { repository: repo, tag: "latest" });
  });

  it("RepoDeleted", () => {
    const event = createBridge(options).repoDeleted(repo);
    checkCommon(event);
    assert.equal(event.action, "delete");
    assert.deepEqual(event.target, { repository: repo });
  });
});

describe("bridge: target shapes of spec section 1.5", () => {
  const digest = `sha256:${"ab".repeat(32)}`;
  const fixed: BridgeOptions = {
    source: { addr: "registry-0:5000", instanceID: "0a7d2c5e-1f7d-4a8e-9a52-0f2f4d4c1b7a" },
    actor: { name: "alice" },
    request: {
      id: "9d7a3f50",
      addr: "10.0.0.7:51234",
      host: "registry.local:5000",
      method: "PUT",
      useragent: "docker/25.0.3",
    },
    baseUrl: "http://registry.local:5000",
    now: () => new Date("2024-05-02T10:15:04.123Z"),
  };

  it("references only with includeReferences", async () => {
    const { descriptor } = await testManifest();
    const without = createBridge({ ...options, includeReferences: false });
    assert.equal(
      without.manifestPushed(repo, descriptor, { references: [cfg] }).target.references,
      undefined,
    );
    assert.equal(
      createBridge(options).manifestPushed(repo, descriptor).target.references,
      undefined,
    );
    const child: Descriptor = {
      mediaType: ociMediaType,
      size: 5,
      digest,
      platform: { architecture: "arm64", os: "linux", variant: "v8" },
      annotations: {},
    };
    const references = createBridge(options).manifestPushed(repo, descriptor, {
      references: [cfg, child],
    }).target.references;
    assert.deepEqual(references, [
      cfg,
      {
        mediaType: ociMediaType,
        size: 5,
        digest,
        platform: { architecture: "arm64", os: "linux", variant: "v8" },
      },
    ]);
  });

  it("blob pull and push: the descriptor, length = size, blob URL, octet-stream by default", () => {
    const bridge = createBridge(fixed);
    const pulled = bridge.blobPulled("team/app", { digest, size: 2811 });
    assert.equal(pulled.action, "pull");
    assert.deepEqual(pulled.target, {
      mediaType: "application/octet-stream",
      size: 2811,
      digest,
      length: 2811,
      repository: "team/app",
      url: `http://registry.local:5000/v2/team/app/blobs/${digest}`,
    });
    const pushed = bridge.blobPushed("team/app", {
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      digest,
      size: 7,
      urls: ["https://cdn/x"],
    });
    assert.equal(pushed.action, "push");
    assert.deepEqual(pushed.target, {
      mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
      size: 7,
      digest,
      urls: ["https://cdn/x"],
      length: 7,
      repository: "team/app",
      url: `http://registry.local:5000/v2/team/app/blobs/${digest}`,
    });
  });

  it("blob mount adds fromRepository; the encoding matches the spec's mount example", () => {
    const event = createBridge(fixed).blobMounted(
      "team/app",
      { mediaType: "application/octet-stream", digest, size: 2811 },
      "library/alpine",
    );
    assert.equal(event.action, "mount");
    const expected = `{
   "events": [
      {
         "id": "${event.id}",
         "timestamp": "2024-05-02T10:15:04.123Z",
         "action": "mount",
         "target": {
            "mediaType": "application/octet-stream",
            "size": 2811,
            "digest": "${digest}",
            "length": 2811,
            "repository": "team/app",
            "fromRepository": "library/alpine",
            "url": "http://registry.local:5000/v2/team/app/blobs/${digest}"
         },
         "request": {
            "id": "9d7a3f50",
            "addr": "10.0.0.7:51234",
            "host": "registry.local:5000",
            "method": "PUT",
            "useragent": "docker/25.0.3"
         },
         "actor": {
            "name": "alice"
         },
         "source": {
            "addr": "registry-0:5000",
            "instanceID": "0a7d2c5e-1f7d-4a8e-9a52-0f2f4d4c1b7a"
         }
      }
   ]
}`;
    assert.equal(encodeEnvelope({ events: [event] }), expected);
  });

  it("blob delete: repository and digest only", () => {
    const event = createBridge(fixed).blobDeleted("team/app", digest);
    assert.equal(event.action, "delete");
    assert.deepEqual(event.target, { repository: "team/app", digest });
  });

  it("tag delete encodes on the v3 line as in the spec's example (anonymous actor)", () => {
    const bridge = createBridge({
      source: { addr: "reg-0:5000", instanceID: "i" },
      actor: {},
      request: {
        id: "r",
        addr: "10.0.0.7",
        host: "reg:5000",
        method: "DELETE",
        useragent: "curl/8.5.0",
      },
      baseUrl: "http://reg:5000",
      ids: "v7",
      now: () => new Date("2025-07-01T12:00:00.123Z"),
    });
    const event = bridge.tagDeleted("library/test", "latest");
    const expected = specTagDeleteV3(event.id, "2025-07-01T12:00:00.123Z");
    assert.equal(encodeEnvelope({ events: [event] }, { mediaType: EventsMediaTypeV2 }), expected);
    assert.match(event.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    assert.equal(
      Number.parseInt(event.id.replace(/-/g, "").slice(0, 12), 16),
      Date.parse("2025-07-01T12:00:00.123Z"),
    );
  });

  it("omits empty values as Go's omitempty does (a zero-size blob has no size or length)", () => {
    const event = createBridge(fixed).blobPushed("team/app", {
      digest,
      size: 0,
      annotations: {},
      urls: [],
    });
    assert.deepEqual(event.target, {
      mediaType: "application/octet-stream",
      digest,
      repository: "team/app",
      url: `http://registry.local:5000/v2/team/app/blobs/${digest}`,
    });
  });

  it("timestamps come from now() or the clock; v4 ids by default", () => {
    const event = createBridge(fixed).repoDeleted("team/app");
    assert.equal(event.timestamp, formatTimestamp(new Date("2024-05-02T10:15:04.123Z")));
    assert.match(event.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4/);
    const before = Date.now();
    const live = createBridge({ ...fixed, now: undefined }).repoDeleted("team/app");
    const ms = Date.parse(live.timestamp);
    assert.ok(ms >= before - 1 && ms <= Date.now() + 1, live.timestamp);
  });

  it("each event gets its own id and copies of the records", () => {
    const bridge = createBridge(fixed);
    const a = bridge.repoDeleted("team/app");
    const b = bridge.repoDeleted("team/app");
    assert.notEqual(a.id, b.id);
    assert.ok(a.request && b.request);
    a.request.method = "changed";
    assert.equal(b.request.method, "PUT");
    assert.equal(fixed.request.method, "PUT");
  });

  it("keeps a base path prefix and supports relative URLs", () => {
    const blob = { digest, size: 1 };
    assert.equal(
      createBridge({ ...fixed, baseUrl: "https://r.example/prefix/" }).blobPulled("a/b", blob)
        .target.url,
      `https://r.example/prefix/v2/a/b/blobs/${digest}`,
    );
    assert.equal(
      createBridge({ ...fixed, baseUrl: "" }).blobPulled("a/b", blob).target.url,
      `/v2/a/b/blobs/${digest}`,
    );
    assert.equal(
      createBridge({ ...fixed, baseUrl: "/registry" }).manifestPulled("a", {
        mediaType: "m",
        digest,
        size: 1,
      }).target.url,
      `/registry/v2/a/manifests/${digest}`,
    );
  });

  it("every event it makes is a valid envelope that round-trips", async () => {
    const { descriptor } = await testManifest();
    const bridge = createBridge({ ...fixed, includeReferences: true });
    const events = [
      bridge.manifestPulled("team/app", descriptor, { tag: "v1", references: [cfg] }),
      bridge.manifestPushed("team/app", descriptor),
      bridge.manifestDeleted("team/app", descriptor.digest),
      bridge.blobPulled("team/app", { digest, size: 3 }),
      bridge.blobPushed("team/app", { digest, size: 3 }),
      bridge.blobMounted("team/app", { digest, size: 3 }, "library/base"),
      bridge.blobDeleted("team/app", digest),
      bridge.tagDeleted("team/app", "v1"),
      bridge.repoDeleted("team/app"),
    ];
    for (const mediaType of [undefined, EventsMediaTypeV2] as const) {
      const text = encodeEnvelope({ events }, { mediaType });
      assert.equal(encodeEnvelope(parseEnvelope(text), { mediaType }), text);
    }
  });

  it("rejects invalid names, digests, sizes, tags and options with the field named", () => {
    const bridge = createBridge(fixed);
    const blob = { digest, size: 1 };
    assert.throws(() => bridge.blobPulled("Team/App", blob), {
      name: "TypeError",
      message: `blobPulled: repository "Team/App" is not valid: lowercase path components separated by '/', at most 255 characters`,
    });
    assert.throws(() => bridge.blobPulled("a".repeat(256), blob), { name: "TypeError" });
    assert.throws(() => bridge.blobPushed("team/app", { digest: "sha256:xyz", size: 1 }), {
      message: `blobPushed: digest "sha256:xyz" is not valid: expected algorithm:hex such as sha256:<64 hex digits>`,
    });
    assert.throws(() => bridge.blobPushed("team/app", { digest, size: -1 }), {
      message: "blobPushed: size -1 is not valid: expected a non-negative integer",
    });
    assert.throws(() => bridge.manifestPushed("team/app", { mediaType: "", digest, size: 1 }), {
      message: `manifestPushed: manifest.mediaType "" is not valid: expected a non-empty string`,
    });
    assert.throws(
      () => bridge.manifestPushed("team/app", { mediaType: "m", digest, size: 1 }, { tag: "-bad" }),
      {
        message: `manifestPushed: tag "-bad" is not valid: expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`,
      },
    );
    assert.throws(() => bridge.tagDeleted("team/app", ""), {
      message: /^tagDeleted: tag "" is not valid/,
    });
    assert.throws(() => bridge.manifestDeleted("team/app", "latest"), {
      message: /^manifestDeleted: digest "latest"/,
    });
    assert.throws(() => bridge.blobMounted("team/app", blob, "Not Valid"), {
      message: /^blobMounted: fromRepository "Not Valid"/,
    });
    assert.throws(() => bridge.repoDeleted(""), { message: /^repoDeleted: repository ""/ });
    assert.throws(() => createBridge({ ...fixed, baseUrl: "registry.local" }), {
      message: /^createBridge: baseUrl "registry.local"/,
    });
    assert.throws(() => createBridge({ ...fixed, ids: "v1" as "v4" }), {
      message: /^createBridge: ids "v1"/,
    });
  });
});
