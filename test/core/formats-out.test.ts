import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseEnvelope } from "../../src/event/envelope.ts";
import type { Event } from "../../src/event/schema.ts";
import { cdEventTypeOf, toCDEvent } from "../../src/formats/cdevents.ts";
import {
  CloudEventMediaType,
  CloudEventsBatchMediaType,
  cloudEventSource,
  cloudEventType,
  toCloudEvent,
  toCloudEventsBody,
} from "../../src/formats/cloudevents.ts";
import { ociPurl, registryHost } from "../../src/formats/purl.ts";
import { loadFixtures } from "../support/env.ts";

// src/formats out: distribution events as CloudEvents 1.0 (structured and batched JSON) and as
// CDEvents 0.5.1 in CloudEvents binary mode. Exact outputs here; test/node/formats-schemas.test.ts
// validates them against the specs' own JSON schemas.

const host = "127.0.0.1:52927";
const manifestDigest = "sha256:3e0ad3a67c04032083fd0cdc35d06ca1dfc2acd598205e64ac2d3342ba541af3";
const blobDigest = "sha256:29836e8468e0d3d2ae6c49359858c1796abfea9dfbaf2b898057bd7fa0d8d01b";
const oci = "application/vnd.oci.image.manifest.v1+json";
const source = { addr: "vm:52927", instanceID: "69111dfc-8fb8-486f-815f-f3979a774259" };
const request = (method: string) => ({ id: "r-1", addr: "127.0.0.1:58782", host, method });

/** Fixture 003: skopeo pushes harness/alpha:v1. */
const pushByTag: Event = {
  id: "d624a3e6-bc9f-4de2-8803-32ab4dc07211",
  timestamp: "2026-11-27T17:19:34.297644813Z",
  action: "push",
  target: {
    mediaType: oci,
    size: 563,
    digest: manifestDigest,
    length: 563,
    repository: "harness/alpha",
    url: `http://${host}/v2/harness/alpha/manifests/${manifestDigest}`,
    tag: "v1",
  },
  request: request("PUT"),
  actor: {},
  source,
};

/** Fixture 014: a pull by digest (no tag), by a known user. */
const pullByDigest: Event = {
  id: "34124957-5a79-4677-99b6-365fd3d3a29f",
  timestamp: "2026-11-27T17:19:39.511543512Z",
  action: "pull",
  target: { mediaType: oci, size: 563, digest: manifestDigest, repository: "harness/alpha" },
  request: request("GET"),
  actor: { name: "alice" },
  source,
};

/** Fixture 038: a manifest deleted by digest (distribution reports no media type on deletes). */
const deleteByDigest: Event = {
  id: "85ceb6db-6fd8-456d-a45d-510e89ee6119",
  timestamp: "2026-11-27T17:19:48.384402899Z",
  action: "delete",
  target: { digest: manifestDigest, repository: "harness/alpha" },
  request: request("DELETE"),
  actor: {},
  source,
};

/** Fixture 039: a tag delete (no digest). */
const deleteTag: Event = {
  ...deleteByDigest,
  id: "5ed4371d-297c-4013-83c1-0c40af671231",
  target: { repository: "harness/alpha", tag: "v1" },
};

/** Fixture 001: a blob push. */
const blobPush: Event = {
  id: "433f1de4-f914-424d-89db-eb58ff2fd3fc",
  timestamp: "2026-11-27T17:19:34.211127926Z",
  action: "push",
  target: {
    mediaType: "application/octet-stream",
    size: 150,
    digest: blobDigest,
    length: 150,
    repository: "harness/alpha",
  },
  request: request("PUT"),
  actor: {},
  source,
};

/** An event an adapter normalized from Harbor: no distribution action, a full type instead. */
const harborScan: Event = {
  id: "scan-1",
  timestamp: "2026-11-27T17:20:00Z",
  action: "harbor.scan.completed",
  target: { repository: "library/nginx", digest: manifestDigest, mediaType: oci },
  origin: { format: "harbor", type: "SCANNING_COMPLETED" },
};

const purlOf = (digest: string, tag?: string) =>
  `pkg:oci/alpha@${digest.replace(":", "%3A")}?repository_url=127.0.0.1%3A52927/harness/alpha${tag ? `&tag=${tag}` : ""}`;

/** Asserts equal values and the same JSON text (so the key order too). */
function assertExact(actual: unknown, expected: unknown) {
  assert.deepEqual(actual, expected);
  assert.equal(JSON.stringify(actual), JSON.stringify(expected));
}

describe("toCloudEvent", () => {
  it("maps a push by tag: id, //host source, type, repository:tag subject, time, data", () => {
    assertExact(toCloudEvent(pushByTag), {
      specversion: "1.0",
      id: pushByTag.id,
      source: `//${host}`,
      type: "dev.registryrelay.artifact.pushed",
      subject: "harness/alpha:v1",
      time: pushByTag.timestamp,
      datacontenttype: "application/json",
      data: pushByTag,
    });
  });

  it("maps a pull by digest, a delete, a tag delete and a blob push", () => {
    const ce = (event: Event) => {
      const { type, subject, source } = toCloudEvent(event);
      return { type, subject, source };
    };
    assert.deepEqual(ce(pullByDigest), {
      type: "dev.registryrelay.artifact.pulled",
      subject: `harness/alpha@${manifestDigest}`,
      source: `//${host}`,
    });
    assert.deepEqual(ce(deleteByDigest), {
      type: "dev.registryrelay.artifact.deleted",
      subject: `harness/alpha@${manifestDigest}`,
      source: `//${host}`,
    });
    assert.equal(ce(deleteTag).subject, "harness/alpha:v1");
    assert.deepEqual(ce(blobPush), {
      type: "dev.registryrelay.artifact.pushed",
      subject: `harness/alpha@${blobDigest}`,
      source: `//${host}`,
    });
    const mount = { ...blobPush, action: "mount", target: { repository: "harness/beta" } };
    assert.deepEqual(ce(mount), {
      type: "dev.registryrelay.artifact.mounted",
      subject: "harness/beta",
      source: `//${host}`,
    });
  });

  it("keeps a dotted action as the type and carries the origin as extension attributes", () => {
    assertExact(toCloudEvent(harborScan, { source: "https://harbor.example.com" }), {
      specversion: "1.0",
      id: "scan-1",
      source: "https://harbor.example.com",
      type: "harbor.scan.completed",
      subject: `library/nginx@${manifestDigest}`,
      time: "2026-11-27T17:20:00Z",
      datacontenttype: "application/json",
      originformat: "harbor",
      origintype: "SCANNING_COMPLETED",
      data: harborScan,
    });
    assert.equal(cloudEventType("rename"), "dev.registryrelay.rename");
    assert.equal(cloudEventType("toString"), "dev.registryrelay.toString");
    const withId = {
      ...pushByTag,
      origin: { format: "zot", type: "zotregistry.image.updated", id: "z-1" },
    };
    const { originformat, origintype, originid } = toCloudEvent(withId);
    assert.deepEqual(
      { originformat, origintype, originid },
      { originformat: "zot", origintype: "zotregistry.image.updated", originid: "z-1" },
    );
    // A malformed origin (no type, an unknown format) is left in data only.
    for (const origin of [{ format: "harbor" }, { format: "ecr", type: "PUSH" }]) {
      assert.equal("originformat" in toCloudEvent({ ...pushByTag, origin }), false);
    }
  });

  it("takes the source from request.host, target.url, source.addr, instanceID, the option", () => {
    const bare: Event = {
      id: "1",
      timestamp: "2026-01-01T00:00:00Z",
      action: "push",
      target: { repository: "a" },
    };
    assert.equal(cloudEventSource(bare), "registry-relay");
    assert.equal(cloudEventSource(bare, { source: "/registries/prod" }), "/registries/prod");
    const withInstance = { ...bare, source: { instanceID: source.instanceID.toUpperCase() } };
    assert.equal(cloudEventSource(withInstance, { source: "x" }), `urn:uuid:${source.instanceID}`);
    const withAddr = { ...bare, source: { ...source } };
    assert.equal(cloudEventSource(withAddr), "//vm:52927");
    const withUrl = {
      ...withAddr,
      target: { repository: "a", url: "https://reg.example:8443/v2/a" },
    };
    assert.equal(cloudEventSource(withUrl), "//reg.example:8443");
    // A Host a URI cannot carry is skipped, never copied into the source.
    const oddHost = { ...withAddr, request: { host: "evil host/x" } };
    assert.equal(cloudEventSource(oddHost), "//vm:52927");
    assert.equal(cloudEventSource({ ...bare, request: { host: "[::1]:5000" } }), "//[::1]:5000");
    assert.throws(() => cloudEventSource(pushByTag, { source: "not a uri" }), TypeError);
    assert.throws(() => cloudEventSource(pushByTag, { source: "" }), TypeError);
  });
});

describe("toCloudEventsBody", () => {
  it("sends one event structured, more (or none) as a batch, compact and in attribute order", () => {
    const one = toCloudEventsBody([pushByTag]);
    assert.equal(one.contentType, CloudEventMediaType);
    assert.equal(one.contentType, "application/cloudevents+json");
    assert.equal(one.body, JSON.stringify(toCloudEvent(pushByTag)));
    assert.ok(
      one.body.startsWith(
        `{"specversion":"1.0","id":"${pushByTag.id}","source":"//${host}","type":"dev.registryrelay.artifact.pushed","subject":"harness/alpha:v1","time":"${pushByTag.timestamp}","datacontenttype":"application/json","data":{"id":`,
      ),
    );
    const batch = toCloudEventsBody([pushByTag, blobPush], { source: "/x" });
    assert.equal(batch.contentType, CloudEventsBatchMediaType);
    assert.equal(batch.contentType, "application/cloudevents-batch+json");
    assert.deepEqual(JSON.parse(batch.body), [toCloudEvent(pushByTag), toCloudEvent(blobPush)]);
    assert.deepEqual(toCloudEventsBody([]), { contentType: CloudEventsBatchMediaType, body: "[]" });
    // Options reach every event: a host-less event takes the given source.
    const hostless: Event = {
      id: "hostless",
      timestamp: pushByTag.timestamp,
      action: "push",
      target: { repository: "r", tag: "t" },
    };
    const sourced = JSON.parse(toCloudEventsBody([hostless, hostless], { source: "/x" }).body);
    assert.deepEqual(
      sourced.map((ce: { source: string }) => ce.source),
      ["/x", "/x"],
    );
    // batch: one event in batched mode, for an endpoint whose POSTs may hold several.
    const single = toCloudEventsBody([pushByTag], { batch: true });
    assert.equal(single.contentType, CloudEventsBatchMediaType);
    assert.deepEqual(JSON.parse(single.body), [toCloudEvent(pushByTag)]);
  });

  it("is deterministic and valid JSON for every captured envelope", async () => {
    for (const fixture of await loadFixtures()) {
      const events = parseEnvelope(fixture.bytes).events;
      const again = parseEnvelope(fixture.text).events;
      const body = toCloudEventsBody(events).body;
      assert.equal(toCloudEventsBody(again).body, body, fixture.name);
      const parsed = JSON.parse(body);
      const ces = Array.isArray(parsed) ? parsed : [parsed];
      assert.deepEqual(
        ces.map((ce) => ce.data),
        events,
      );
      for (const event of events) {
        assert.equal(toCDEvent(event)?.body, toCDEvent(structuredClone(event))?.body);
      }
    }
  });
});

describe("toCDEvent", () => {
  it("sends a manifest push by tag as artifact.published in binary mode", () => {
    const purl = purlOf(manifestDigest, "v1");
    const message = toCDEvent(pushByTag);
    assertExact(message?.headers, {
      "ce-specversion": "1.0",
      "ce-id": pushByTag.id,
      "ce-source": `//${host}`,
      "ce-type": "dev.cdevents.artifact.published.0.3.0",
      "ce-subject": purl.replaceAll("%", "%25"),
      "ce-time": pushByTag.timestamp,
      "content-type": "application/json",
    });
    const expected = {
      context: {
        specversion: "0.5.1",
        id: pushByTag.id,
        source: `//${host}`,
        type: "dev.cdevents.artifact.published.0.3.0",
        timestamp: pushByTag.timestamp,
      },
      subject: { id: purl, source: `//${host}`, content: {} },
    };
    assert.equal(message?.body, JSON.stringify(expected));
  });

  it("sends a pull by digest as artifact.downloaded with the user, a delete as artifact.deleted", () => {
    const pull = toCDEvent(pullByDigest);
    assert.equal(pull?.headers["ce-type"], "dev.cdevents.artifact.downloaded.0.2.0");
    assert.deepEqual(JSON.parse(pull?.body ?? "").subject, {
      id: purlOf(manifestDigest),
      source: `//${host}`,
      content: { user: "alice" },
    });
    const deleted = toCDEvent(deleteByDigest);
    assert.equal(deleted?.headers["ce-type"], "dev.cdevents.artifact.deleted.0.2.0");
    assert.equal(JSON.parse(deleted?.body ?? "").subject.id, purlOf(manifestDigest));
    assert.equal(JSON.parse(deleted?.body ?? "").context.id, deleteByDigest.id);
  });

  it("skips blobs, mounts, tag deletes, other registries' actions and unknown media types", () => {
    const layer = "application/vnd.oci.image.layer.v1.tar+gzip";
    const skipped: Event[] = [
      blobPush,
      { ...blobPush, action: "pull" },
      { ...blobPush, target: { ...blobPush.target, mediaType: layer } },
      { ...blobPush, target: { ...blobPush.target, mediaType: "application/vnd.example+json" } },
      { ...blobPush, action: "mount", target: { ...pushByTag.target, tag: undefined } },
      deleteTag,
      { ...deleteTag, target: { repository: "harness/alpha" } },
      harborScan,
      { ...pushByTag, action: "rename" },
      { ...pushByTag, action: "hasOwnProperty" },
      { ...pushByTag, target: { ...pushByTag.target, digest: "" } },
    ];
    for (const event of skipped) {
      assert.equal(toCDEvent(event), undefined, JSON.stringify(event.target));
      assert.equal(cdEventTypeOf(event), undefined);
    }
    // Manifest and index media types (with parameters, any case) and none at all are sent.
    for (const mediaType of [
      "application/vnd.oci.image.index.v1+json",
      "application/vnd.docker.distribution.manifest.list.v2+json",
      "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8",
      "Application/VND.OCI.image.manifest.v1+json",
      undefined,
    ]) {
      const event = { ...pushByTag, target: { ...pushByTag.target, mediaType } };
      assert.equal(cdEventTypeOf(event), "dev.cdevents.artifact.published.0.3.0", mediaType);
    }
  });

  it("percent-encodes header values as the CloudEvents HTTP binding says", () => {
    const odd = { ...pushByTag, id: 'a b"c%d€\u{1f600}\ud800', actor: { name: "bob" } };
    const message = toCDEvent(odd, { source: "/x" });
    assert.equal(message?.headers["ce-id"], "a%20b%22c%25d%E2%82%AC%F0%9F%98%80%EF%BF%BD");
    assert.equal(JSON.parse(message?.body ?? "").context.id, odd.id);
    assert.deepEqual(JSON.parse(message?.body ?? "").subject.content, { user: "bob" });
    for (const value of Object.values(message?.headers ?? {})) assert.match(value, /^[!-~]+$/);
  });
});

describe("ociPurl", () => {
  const digest = "sha256:abc";
  it("names the last repository segment, lowercased; keeps the repository path in repository_url", () => {
    assert.equal(
      ociPurl({ repository: "team-a/sub/app", digest, host: "reg.example", tag: "v1.2_3-rc" }),
      "pkg:oci/app@sha256%3Aabc?repository_url=reg.example/team-a/sub/app&tag=v1.2_3-rc",
    );
    assert.equal(
      ociPurl({ repository: "Team/MyApp", digest, host: "Reg.Example" }),
      "pkg:oci/myapp@sha256%3Aabc?repository_url=Reg.Example/Team/MyApp",
    );
  });

  it("encodes a port's colon, IPv6 brackets and characters outside the unreserved set", () => {
    assert.equal(
      ociPurl({ repository: "library/debian", digest, host: "localhost:5000", tag: "latest" }),
      "pkg:oci/debian@sha256%3Aabc?repository_url=localhost%3A5000/library/debian&tag=latest",
    );
    assert.equal(
      ociPurl({ repository: "a", digest, host: "[::1]:5000" }),
      "pkg:oci/a@sha256%3Aabc?repository_url=%5B%3A%3A1%5D%3A5000/a",
    );
    assert.equal(
      ociPurl({ repository: "x/ün@i?#&=", digest: "sha512:1+2", tag: "t&a=g" }),
      "pkg:oci/%C3%BCn%40i%3F%23%26%3D@sha512%3A1%2B2?tag=t%26a%3Dg",
    );
    assert.equal(
      ociPurl({ repository: "hello-wasm", digest, tag: "" }),
      "pkg:oci/hello-wasm@sha256%3Aabc",
    );
  });

  it("uses the registry host of the event", () => {
    assert.equal(registryHost(pushByTag), host);
    assert.equal(registryHost({ ...harborScan }), undefined);
    const noHost = { ...pullByDigest, request: {}, source: {} };
    assert.equal(
      JSON.parse(toCDEvent(noHost, { source: "/r" })?.body ?? "").subject.id,
      `pkg:oci/alpha@sha256%3A${manifestDigest.slice(7)}`,
    );
  });
});
