import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  EnvelopeError,
  encodeEnvelope,
  parseEnvelope,
  safeParseEnvelope,
} from "../../src/event/envelope.ts";
import type { Event } from "../../src/event/schema.ts";
import { canonicalJson } from "../../src/formats/build.ts";
import {
  FormatError,
  type FormatIssue,
  type HeadersInput,
  INPUT_FORMATS,
  type InputFormat,
  isInputFormat,
  type Normalized,
  type NotificationInput,
  normalizeNotification,
  originOf,
} from "../../src/formats/index.ts";
import { loadFixtures, registryFixture, registryFixturePaths } from "../support/env.ts";

// Every registry's webhook in, as distribution Events: each vendor sample of
// test/fixtures/registries (fetched from the test server, so every runtime reads the same bytes)
// and the exact events expected out, whole; unsupported events, determinism of ids, refusals.

/** The time of events whose source sends none (Quay), fixed so that outputs compare whole. */
const receivedAt = new Date("2026-01-02T03:04:05Z");
const RECEIVED = "2026-01-02T03:04:05Z";
const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Normalizes, and holds every output to the core's own validation, to plain JSON and to the
 * envelope codec.
 */
async function normalize(format: InputFormat, input: NotificationInput): Promise<Normalized> {
  const out = await normalizeNotification(format, { receivedAt, ...input });
  const all = [...out.events, ...out.unsupported];
  const checked = safeParseEnvelope({ events: structuredClone(all) });
  assert.ok(checked.success, `${format}: ${JSON.stringify(!checked.success && checked.issues)}`);
  assert.deepEqual(JSON.parse(JSON.stringify(all)), all);
  // `origin`, like any field distribution does not know, travels through a relay's encoding.
  assert.deepEqual(parseEnvelope(encodeEnvelope({ events: all })).events, all);
  if (format !== "distribution") for (const event of all) assert.match(event.id, UUID_V8);
  return out;
}

/** A sample's body, as bytes (the way a receiver has it). */
const sample = async (path: string) => (await registryFixture(path)).bytes;
/** A sample's body, parsed, to make variants of it. */
const sampleJson = async (path: string) => JSON.parse((await registryFixture(path)).text);

const ids = (out: Normalized) => [...out.events, ...out.unsupported].map((event) => event.id);

/** Asserts `format` refuses `input` with exactly `issues` (and says so in the message). */
async function refuses(format: InputFormat, input: NotificationInput, issues: FormatIssue[]) {
  await assert.rejects(normalizeNotification(format, input), (error: unknown) => {
    assert.ok(error instanceof FormatError, String(error));
    assert.equal(error.format, format);
    assert.deepEqual(error.issues, issues);
    const first = issues[0] as FormatIssue;
    assert.ok(error.message.startsWith(`invalid ${format} notification: `), error.message);
    assert.ok(error.message.includes(first.message), error.message);
    return true;
  });
}

const harborPush = "harbor/website-default-push-artifact.json";
const harborPull = "harbor/website-default-pull-artifact.json";
const harborWire = "harbor/src-default-test-wire-pull.json";
const harborCloudEvent = "harbor/website-cloudevents-artifact-deleted.json";
const githubPublished = "github/package-published-docker.json";
const dockerHubPush = "dockerhub/docs-push-webhook.json";
const quayPush = "quay/docs-repo_push.json";
const acrPush = "acr/azuredocs-2017-push.json";
const gitlabPush = "gitlab/test-envelope-push-manifest-and-2-layers.json";
const ceHeaders = { "content-type": "application/cloudevents+json" };
const githubHeaders = {
  "X-GitHub-Event": "package",
  "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
};

describe("formats in: the vendors' samples", () => {
  it("covers every payload sample of test/fixtures/registries", async () => {
    const payloads = (await registryFixturePaths()).filter((name) =>
      /^[a-z]+\/[^/]+\.json$/.test(name),
    );
    const covered = [harborPush, harborPull, harborWire, harborCloudEvent, githubPublished];
    covered.push(dockerHubPush, quayPush, acrPush, gitlabPush);
    assert.deepEqual(payloads, covered.sort());
  });

  it("Harbor Default: a push by digest (no tag), the host from resource_url", async () => {
    const out = await normalize("harbor", { body: await sample(harborPush) });
    assert.deepEqual(out, {
      events: [
        {
          id: "5056aa34-01f0-8466-a39f-42ee5b3da6da",
          timestamp: "2023-04-03T06:04:53Z",
          action: "push",
          target: {
            digest: "sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4",
            repository: "harbor/alpine",
          },
          request: { host: "localhost" },
          actor: { name: "harbor-jobservice" },
          origin: { format: "harbor", type: "PUSH_ARTIFACT" },
        },
      ],
      unsupported: [],
    });
  });

  it("Harbor Default: pulls by digest, from the docs and from Harbor's own wire test", async () => {
    const docs = await normalize("harbor", { body: await sample(harborPull) });
    assert.deepEqual(docs, {
      events: [
        {
          id: "73c3307b-348c-886d-b76a-7933086adef9",
          timestamp: "2023-04-03T06:12:52Z",
          action: "pull",
          target: {
            digest: "sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4",
            repository: "harbor/alpine",
          },
          request: { host: "localhost" },
          actor: { name: "robot$harbor+wHSYCuGD-Trivy-8e2e7505-d1e6-11ed-9e71-0242ac130009" },
          origin: { format: "harbor", type: "PULL_ARTIFACT" },
        },
      ],
      unsupported: [],
    });
    const wire = await normalize("harbor", {
      body: await sample(harborWire),
      headers: { "Content-Type": "application/json" },
    });
    assert.deepEqual(wire, {
      events: [
        {
          id: "8336d1e0-f165-8cc7-b67d-7ad97138e805",
          timestamp: "2023-03-06T05:58:23Z",
          action: "pull",
          target: {
            digest: "sha256:dde8e930c7b6a490f728e66292bc9bce42efc9bbb5278bae40e4f30f6e00fe8c",
            repository: "library/busybox",
          },
          request: { host: "harbor.dev" },
          actor: { name: "admin" },
          origin: { format: "harbor", type: "PULL_ARTIFACT" },
        },
      ],
      unsupported: [],
    });
  });

  it("Harbor CloudEvents: by content type or by shape, requestid as request.id", async () => {
    const expected = {
      events: [
        {
          id: "daccb697-d9bf-8a02-a38f-8e2966b04d94",
          timestamp: "2023-04-03T06:16:38Z",
          action: "delete",
          target: {
            digest: "sha256:2bb501e6173d9d006e56de5bce2720eb06396803300fe1687b58a7ff32bf4c14",
            repository: "harbor/alpine",
            tag: "3.8",
          },
          request: { id: "ca0f3ceb-810f-4598-a268-a2291ad4de49", host: "localhost" },
          actor: { name: "harbor-jobservice" },
          origin: {
            format: "harbor",
            type: "harbor.artifact.deleted",
            id: "343f1623-7cba-487c-88f1-c5ebf55e93aa",
          },
        },
      ],
      unsupported: [],
    };
    const body = await sample(harborCloudEvent);
    assert.deepEqual(await normalize("harbor", { body, headers: ceHeaders }), expected);
    assert.deepEqual(await normalize("harbor", { body }), expected);
    const typed = new Headers({ "Content-Type": "application/cloudevents+json; charset=utf-8" });
    assert.deepEqual(await normalize("harbor", { body, headers: typed }), expected);
  });

  it("GitHub: a container package published, its delivery id kept in origin", async () => {
    const out = await normalize("github", {
      body: await sample(githubPublished),
      headers: githubHeaders,
    });
    assert.deepEqual(out, {
      events: [
        {
          id: "4735d6f6-cd7e-8fd6-a2b0-f3bb075e5115",
          timestamp: "2019-05-09T23:28:29Z",
          action: "push",
          target: {
            mediaType: "application/vnd.docker.distribution.manifest.v2+json",
            size: 1782,
            // The sample's own (40 hex digits): passed on as the source wrote it.
            digest: "sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b",
            repository: "Codertocat/hello-world",
          },
          request: { host: "ghcr.io" },
          actor: { name: "Codertocat" },
          origin: {
            format: "github",
            type: "package.published",
            id: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
          },
        },
      ],
      unsupported: [],
    });
  });

  it("Docker Hub: a push of a tag, registry-1.docker.io as the host", async () => {
    const out = await normalize("dockerhub", { body: await sample(dockerHubPush) });
    assert.deepEqual(out, {
      events: [
        {
          id: "d373cee7-12ee-8e85-914e-ac1bd1a291bb",
          timestamp: "2014-12-03T00:22:41Z",
          action: "push",
          target: { repository: "svendowideit/testhook", tag: "latest" },
          request: { host: "registry-1.docker.io" },
          actor: { name: "trustedbuilder" },
          origin: { format: "dockerhub", type: "push" },
        },
      ],
      unsupported: [],
    });
  });

  it("Quay: repo_push, one event per updated tag, the time of receipt", async () => {
    const out = await normalize("quay", { body: await sample(quayPush) });
    assert.deepEqual(out, {
      events: [
        {
          id: "70f7a8c8-77b7-85eb-87b6-f72a4fc67ce1",
          timestamp: RECEIVED,
          action: "push",
          target: { repository: "dgangaia/test", tag: "latest" },
          request: { host: "quay.io" },
          origin: { format: "quay", type: "repo_push" },
        },
      ],
      unsupported: [],
    });
  });

  it("ACR: one event in distribution's own shape, its digits and escapes kept", async () => {
    const out = await normalize("acr", { body: await sample(acrPush) });
    assert.deepEqual(out, {
      events: [
        {
          id: "d9cff4bd-3a5e-8b0d-b0bc-a234f28a5cad",
          timestamp: "2017-11-17T16:52:01.343145347Z",
          action: "push",
          target: {
            mediaType: "application/vnd.docker.distribution.manifest.v2+json",
            size: 524,
            digest: "sha256:80f0d5c8786bb9e621a45ece0db56d11cdc624ad20da9fe62e9d25490f331d7d",
            length: 524,
            repository: "hello-world",
            tag: "v1",
          },
          request: {
            id: "3cbb6949-7549-4fa1-86cd-a6d5451dffc7",
            host: "myregistry.azurecr.io",
            method: "PUT",
            useragent:
              "docker/17.09.0-ce go/go1.8.3 git-commit/afdb6d4 kernel/4.10.0-27-generic os/linux arch/amd64 UpstreamClient(Docker-Client/17.09.0-ce \\(linux\\))",
          },
          origin: { format: "acr", type: "push", id: "cb8c3971-9adc-488b-bdd8-43cbb4974ff5" },
        },
      ],
      unsupported: [],
    });
  });

  it("GitLab through distribution: parseEnvelope's events, unchanged, no origin", async () => {
    const fixture = await registryFixture(gitlabPush);
    const out = await normalize("distribution", { body: fixture.bytes });
    assert.deepEqual(out, { events: JSON.parse(fixture.text).events, unsupported: [] });
    assert.deepEqual(out.events, parseEnvelope(fixture.text).events);
    assert.equal(out.events[0]?.id, "asdf-asdf-asdf-asdf-0");
    assert.deepEqual(out.events[0]?.actor, { name: "test-actor", user_type: "test-user-type" });
    assert.equal(originOf(out.events[0] as Event), undefined);
  });

  it("distribution: every captured 2.8.2 envelope, as parseEnvelope reads it", async () => {
    for (const fixture of await loadFixtures()) {
      const out = await normalizeNotification("distribution", { body: fixture.bytes });
      assert.deepEqual(out, { events: parseEnvelope(fixture.bytes).events, unsupported: [] });
    }
  });
});

describe("formats in: variants the samples do not show", () => {
  it("Harbor: one event per resource, tags that are digests dropped", async () => {
    const body = await sampleJson(harborWire);
    body.type = "PUSH_ARTIFACT";
    body.event_data.resources = [
      { digest: "sha256:aa", tag: "v1", resource_url: "harbor.dev:8443/library/busybox:v1" },
      {
        digest: "sha256:aa",
        tag: "latest",
        resource_url: "harbor.dev:8443/library/busybox:latest",
      },
      {
        digest: "sha256:bb",
        tag: "sha256:bb",
        resource_url: "harbor.dev:8443/library/busybox@sha256:bb",
      },
    ];
    const out = await normalize("harbor", { body: JSON.stringify(body) });
    assert.deepEqual(
      out.events.map(({ target, request }) => ({ target, request })),
      [
        { target: { digest: "sha256:aa", repository: "library/busybox", tag: "v1" } },
        { target: { digest: "sha256:aa", repository: "library/busybox", tag: "latest" } },
        { target: { digest: "sha256:bb", repository: "library/busybox" } },
      ].map((event) => ({ ...event, request: { host: "harbor.dev:8443" } })),
    );
    assert.equal(new Set(ids(out)).size, 3);
  });

  it("Harbor: scans, quotas, replication and retention go to unsupported with Harbor's CloudEvents type", async () => {
    const scan = {
      type: "SCANNING_COMPLETED",
      occur_at: 1680502000,
      operator: "auto",
      event_data: {
        resources: [
          {
            digest: "sha256:954b",
            tag: "3.8",
            resource_url: "localhost/harbor/alpine:3.8",
            scan_overview: {
              "application/vnd.security.vulnerability.report; version=1.1": { severity: "Low" },
            },
          },
        ],
        repository: { name: "alpine", namespace: "harbor", repo_full_name: "harbor/alpine" },
      },
    };
    const out = await normalize("harbor", { body: JSON.stringify(scan) });
    assert.deepEqual(out, {
      events: [],
      unsupported: [
        {
          id: out.unsupported[0]?.id,
          timestamp: "2023-04-03T06:06:40Z",
          action: "harbor.scan.completed",
          target: { digest: "sha256:954b", repository: "harbor/alpine", tag: "3.8" },
          request: { host: "localhost" },
          actor: { name: "auto" },
          origin: { format: "harbor", type: "SCANNING_COMPLETED" },
        },
      ],
    });
    // No repository and no resources (replication): one event, named for the format.
    const replication = {
      type: "REPLICATION",
      occur_at: 1680502000,
      operator: "MANUAL",
      event_data: { replication: { harbor_hostname: "harbor.dev", job_status: "Success" } },
    };
    const replicated = await normalize("harbor", { body: JSON.stringify(replication) });
    assert.deepEqual(replicated.unsupported[0], {
      id: replicated.unsupported[0]?.id,
      timestamp: "2023-04-03T06:06:40Z",
      action: "harbor.replication.status.changed",
      target: { repository: "harbor" },
      actor: { name: "MANUAL" },
      origin: { format: "harbor", type: "REPLICATION" },
    });
    const types = ["QUOTA_EXCEED", "TAG_RETENTION", "SCANNING_FAILED", "UPLOAD_CHART"];
    const actions = [];
    for (const type of types) {
      const { events, unsupported } = await normalize("harbor", {
        body: JSON.stringify({ type, occur_at: 1, operator: "" }),
      });
      assert.equal(events.length, 0);
      actions.push(unsupported.map((event) => event.action));
    }
    assert.deepEqual(actions, [
      ["harbor.quota.exceeded"],
      ["harbor.tag_retention.finished"],
      ["harbor.scan.failed"],
      ["dev.registryrelay.harbor.upload_chart"], // a type Harbor has no CloudEvents type for
    ]);
    // The CloudEvents format's own types, as they are.
    const ce = await sampleJson(harborCloudEvent);
    ce.type = "harbor.quota.warned";
    const warned = await normalize("harbor", { body: JSON.stringify(ce), headers: ceHeaders });
    assert.deepEqual(
      warned.unsupported.map((event) => [event.action, originOf(event)]),
      [["harbor.quota.warned", { format: "harbor", type: "harbor.quota.warned", id: ce.id }]],
    );
  });

  it("GitHub: registry_package, updated, no delivery header, no event header", async () => {
    const published = await sampleJson(githubPublished);
    const { package: pkg, ...rest } = published;
    const legacy = JSON.stringify({ ...rest, registry_package: pkg });
    const old = await normalize("github", {
      body: legacy,
      headers: new Headers({ "x-github-event": "registry_package" }),
    });
    assert.deepEqual(originOf(old.events[0] as Event), {
      format: "github",
      type: "registry_package.published",
    });
    const updated = await normalize("github", {
      body: JSON.stringify({ ...published, action: "updated" }),
      headers: { "x-github-event": "package" },
    });
    assert.deepEqual(
      updated.events.map((event) => [event.action, originOf(event)?.type]),
      [["push", "package.updated"]],
    );
    // The event named by the body alone; the same target either way.
    const bare = await normalize("github", { body: await sample(githubPublished) });
    const full = await normalize("github", {
      body: await sample(githubPublished),
      headers: githubHeaders,
    });
    const { id: bareId, origin: bareOrigin, ...bareRest } = bare.events[0] as Event & object;
    const { id: fullId, origin: fullOrigin, ...fullRest } = full.events[0] as Event & object;
    assert.deepEqual(bareRest, fullRest);
    // The id comes from the signed body, with or without a delivery header.
    assert.equal(bareId, fullId);
    assert.deepEqual(bareOrigin, { format: "github", type: "package.published" });
    assert.deepEqual(fullOrigin, { ...bareOrigin, id: "72d3162e-cc78-11e3-81ab-4c9367dc0958" });
  });

  it("GitHub: a real GHCR shape (tag, namespace/name fallback), other ecosystems and events unsupported", async () => {
    const published = await sampleJson(githubPublished);
    const version = published.package.package_version;
    version.container_metadata.tag = { name: "v1", digest: "sha256:1234" };
    delete version.container_metadata.manifest;
    delete version.package_url;
    published.package = {
      ...published.package,
      name: "repositoryname/frontend",
      namespace: "noahvdaa",
      ecosystem: "CONTAINER",
      package_type: "CONTAINER",
    };
    const ghcr = await normalize("github", { body: JSON.stringify(published) });
    assert.deepEqual(ghcr.events[0]?.target, {
      digest: "sha256:1234",
      repository: "noahvdaa/repositoryname/frontend",
      tag: "v1",
    });
    assert.equal(ghcr.events[0]?.request, undefined); // no package_url: no host said

    const npm = await sampleJson(githubPublished);
    npm.package.ecosystem = "npm";
    npm.package.package_type = "npm";
    const out = await normalize("github", { body: JSON.stringify(npm), headers: githubHeaders });
    assert.deepEqual(out, {
      events: [],
      unsupported: [
        {
          id: out.unsupported[0]?.id,
          timestamp: "2019-05-09T23:28:29Z",
          action: "dev.registryrelay.github.package_published",
          target: { repository: "Codertocat/hello-world-npm" },
          actor: { name: "Codertocat" },
          origin: {
            format: "github",
            type: "package.published",
            id: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
          },
        },
      ],
    });
    const ping = await normalize("github", {
      body: JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 }),
      headers: { "X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-1" },
    });
    assert.deepEqual(ping.unsupported, [
      {
        id: ping.unsupported[0]?.id,
        timestamp: RECEIVED,
        action: "dev.registryrelay.github.ping",
        target: { repository: "github" },
        origin: { format: "github", type: "ping", id: "d-1" },
      },
    ]);
  });

  it("Quay: three tags are three events; no tag, builds, vulnerabilities", async () => {
    const push = await sampleJson(quayPush);
    push.updated_tags = ["latest", "v1", "v1.2"];
    const out = await normalize("quay", { body: JSON.stringify(push) });
    assert.deepEqual(
      out.events.map((event) => event.target),
      ["latest", "v1", "v1.2"].map((tag) => ({ repository: "dgangaia/test", tag })),
    );
    assert.equal(new Set(ids(out)).size, 3);
    push.updated_tags = [];
    const none = await normalize("quay", { body: JSON.stringify(push) });
    assert.deepEqual(
      none.events.map((event) => event.target),
      [{ repository: "dgangaia/test" }],
    );
    const base = {
      repository: "mynamespace/repository",
      namespace: "mynamespace",
      name: "repository",
      docker_url: "registry.example.com:8443/mynamespace/repository",
      homepage: "https://quay.io/repository/mynamespace/repository",
    };
    const bodies = [
      { ...base, build_id: "296ec063", docker_tags: ["latest"], error_message: "failed" },
      { ...base, build_id: "296ec063", docker_tags: ["latest"], image_id: "1245657346" },
      { ...base, tags: ["latest"], vulnerability: { id: "CVE-1", priority: "Critical" } },
      { ...base, tags: ["latest"], expiring_in: 7 },
      { ...base, message: "TEST NOTIFICATION" },
    ];
    const unsupported: Event[] = [];
    for (const body of bodies) {
      const result = await normalize("quay", { body: JSON.stringify(body) });
      assert.equal(result.events.length, 0);
      unsupported.push(...result.unsupported);
    }
    assert.deepEqual(
      unsupported.map(({ id: _, ...event }) => event),
      [
        ["build_failure", "dev.registryrelay.quay.build_failure"],
        ["build", "dev.registryrelay.quay.build"],
        ["vulnerability_found", "dev.registryrelay.quay.vulnerability_found"],
        ["repo_image_expiry", "dev.registryrelay.quay.repo_image_expiry"],
        ["repo_mirror_sync", "dev.registryrelay.quay.repo_mirror_sync"],
      ].map(([type, action]) => ({
        timestamp: RECEIVED,
        action,
        target: { repository: "mynamespace/repository" },
        request: { host: "registry.example.com:8443" },
        origin: { format: "quay", type },
      })),
    );
  });

  it("ACR: a delete has no tag; chart events and quarantine are unsupported", async () => {
    const push = await sampleJson(acrPush);
    const deleted = {
      ...push,
      action: "delete",
      target: { ...push.target, tag: undefined, mediaType: undefined, size: undefined },
    };
    const out = await normalize("acr", { body: JSON.stringify(deleted) });
    assert.deepEqual(out.events[0]?.target, {
      digest: "sha256:80f0d5c8786bb9e621a45ece0db56d11cdc624ad20da9fe62e9d25490f331d7d",
      length: 524,
      repository: "hello-world",
    });
    const chart = {
      id: "6356e9e0-627f-4fed-a5ab-2a5ae9d0b5a5",
      timestamp: "2019-03-12T09:21:04.5757196Z",
      action: "chart_push",
      target: {
        mediaType: "application/vnd.acr.helm.chart",
        size: 25265,
        digest: "sha256:xxxx",
        repository: "repo",
        tag: "wordpress-5.4.0.tgz",
        name: "wordpress",
        version: "5.4.0.tgz",
      },
    };
    const charted = await normalize("acr", { body: JSON.stringify(chart) });
    assert.deepEqual(charted, {
      events: [],
      unsupported: [
        {
          id: charted.unsupported[0]?.id,
          timestamp: "2019-03-12T09:21:04.5757196Z",
          action: "dev.registryrelay.acr.chart_push",
          target: {
            mediaType: "application/vnd.acr.helm.chart",
            size: 25265,
            digest: "sha256:xxxx",
            repository: "repo",
            tag: "wordpress-5.4.0.tgz",
          },
          origin: { format: "acr", type: "chart_push", id: chart.id },
        },
      ],
    });
    const quarantine = { ...push, action: "quarantine" };
    const held = await normalize("acr", { body: JSON.stringify(quarantine) });
    assert.equal(held.unsupported[0]?.action, "dev.registryrelay.acr.quarantine");
  });
});

// zot publishes no payload sample. This request is built from FORMATS.md's description of its
// HTTP sink (project-zot/zot pkg/extensions/events: cloudevents sdk-go, binary content mode):
// attributes in Ce-* headers, Ce-Time in Go's RFC3339Nano UTC, the body only the data map, which
// Go's encoding/json writes compact with its keys sorted. The manifest is a JSON string.
const zotManifest = JSON.stringify({
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: {
    mediaType: "application/vnd.oci.image.config.v1+json",
    digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    size: 2,
  },
  layers: [],
});
const zotDigest = "sha256:7e4d58f0e5f9a8c2b1d3e6f4a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0";
const zotData = {
  actor: { name: "alice" },
  digest: zotDigest,
  manifest: zotManifest,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  name: "team/app",
  reference: "v1",
  request: { addr: "10.0.0.7:51234", method: "PUT", useragent: "containerd/2.0.0+unknown" },
};
const zotHeaders = {
  Authorization: "Basic dXNlcjpwYXNz",
  "Ce-Id": "5f0c2d2e-8a6b-4f0e-9c1d-3b2a1f0e9d8c",
  "Ce-Source": "zotregistry.dev",
  "Ce-Specversion": "1.0",
  "Ce-Time": "2025-06-12T10:20:30.123456789Z",
  "Ce-Type": "zotregistry.image.updated",
  "Content-Type": "application/json",
};
/** The request, some headers changed (undefined: left out) or other data. */
const zotRequest = (headers: Record<string, string | undefined> = {}, data: object = zotData) => ({
  body: new TextEncoder().encode(JSON.stringify(data)),
  headers: { ...zotHeaders, ...headers },
});

describe("formats in: zot (CloudEvents binary mode)", () => {
  it("maps an image update to a push, attributes from the Ce-* headers", async () => {
    const out = await normalize("zot", zotRequest());
    assert.deepEqual(out, {
      events: [
        {
          id: "14dc1327-5b08-80dd-9825-b40e46fc6088",
          timestamp: "2025-06-12T10:20:30.123456789Z",
          action: "push",
          target: {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest: zotDigest,
            repository: "team/app",
            tag: "v1",
          },
          request: { addr: "10.0.0.7:51234", method: "PUT", useragent: "containerd/2.0.0+unknown" },
          actor: { name: "alice" },
          origin: {
            format: "zot",
            type: "zotregistry.image.updated",
            id: "5f0c2d2e-8a6b-4f0e-9c1d-3b2a1f0e9d8c",
          },
        },
      ],
      unsupported: [],
    });
    // Headers as a Headers object, names in any case: the same event.
    const { body, headers } = zotRequest();
    assert.deepEqual(await normalize("zot", { body, headers: new Headers(headers) }), out);
  });

  it("maps a delete by digest (no tag), older data without actor or request, no Ce-Time", async () => {
    const data = {
      digest: zotDigest,
      mediaType: zotData.mediaType,
      name: "team/app",
      reference: zotDigest,
    };
    const out = await normalize(
      "zot",
      zotRequest({ "Ce-Type": "zotregistry.image.deleted", "Ce-Time": undefined }, data),
    );
    assert.deepEqual(out.events, [
      {
        id: out.events[0]?.id,
        timestamp: RECEIVED,
        action: "delete",
        target: { mediaType: zotData.mediaType, digest: zotDigest, repository: "team/app" },
        origin: { format: "zot", type: "zotregistry.image.deleted", id: zotHeaders["Ce-Id"] },
      },
    ]);
  });

  it("sends repository.created, lint_failed and scanned to unsupported with zot's type", async () => {
    const created = await normalize(
      "zot",
      zotRequest({ "Ce-Type": "zotregistry.repository.created" }, { name: "team/new" }),
    );
    assert.deepEqual(created, {
      events: [],
      unsupported: [
        {
          id: created.unsupported[0]?.id,
          timestamp: "2025-06-12T10:20:30.123456789Z",
          action: "zotregistry.repository.created",
          target: { repository: "team/new" },
          origin: {
            format: "zot",
            type: "zotregistry.repository.created",
            id: zotHeaders["Ce-Id"],
          },
        },
      ],
    });
    for (const type of ["zotregistry.image.lint_failed", "zotregistry.image.scanned"]) {
      const out = await normalize("zot", zotRequest({ "Ce-Type": type }));
      assert.deepEqual(
        out.unsupported.map((event) => [event.action, event.target.repository, event.target.tag]),
        [[type, "team/app", "v1"]],
      );
    }
    // A configured type prefix (zot's `Identity.TypePrefix`) keeps the mapping.
    const renamed = await normalize("zot", zotRequest({ "Ce-Type": "com.example.image.updated" }));
    assert.equal(renamed.events[0]?.action, "push");
  });

  it("reads structured mode too, and percent-encoded header values", async () => {
    const structured = {
      specversion: "1.0",
      id: zotHeaders["Ce-Id"],
      source: "zotregistry.dev",
      type: "zotregistry.image.updated",
      time: zotHeaders["Ce-Time"],
      datacontenttype: "application/json",
      data: zotData,
    };
    const binary = await normalize("zot", zotRequest());
    const fromStructured = await normalize("zot", {
      body: JSON.stringify(structured),
      headers: ceHeaders,
    });
    assert.deepEqual(fromStructured, binary);
    const encoded = await normalize("zot", zotRequest({ "Ce-Source": "urn:acme%3Aregistry" }));
    assert.deepEqual(encoded, binary); // the source is not part of an event
    const escaped = await normalize("zot", zotRequest({ "Ce-Id": "id%20%E2%9C%93" }));
    assert.equal(originOf(escaped.events[0] as Event)?.id, "id ✓");
  });
});

describe("formats in: deterministic ids", () => {
  const payloads: [InputFormat, string, HeadersInput?][] = [
    ["harbor", harborPush],
    ["harbor", harborPull],
    ["harbor", harborWire],
    ["harbor", harborCloudEvent, ceHeaders],
    ["github", githubPublished, githubHeaders],
    ["github", githubPublished],
    ["dockerhub", dockerHubPush],
    ["quay", quayPush],
    ["acr", acrPush],
  ];

  it("gives a resend the same ids, from bytes, ArrayBuffer or text, at any time", async () => {
    for (const [format, path, headers] of payloads) {
      if (format === "quay") continue; // no time in its payload: see the next test
      const fixture = await registryFixture(path);
      const first = await normalize(format, { body: fixture.bytes, ...(headers && { headers }) });
      const later = new Date("2030-05-06T07:08:09Z");
      for (const body of [fixture.bytes, fixture.bytes.slice().buffer, fixture.text]) {
        const again = await normalizeNotification(format, {
          body,
          ...(headers && { headers }),
          receivedAt: later,
        });
        assert.deepEqual(ids(again), ids(first), path);
      }
    }
  });

  it("Quay (no id, no time): a resend within 10 minutes is a duplicate, a later push is new", async () => {
    const body = await sample(quayPush);
    const at = (iso: string) => normalizeNotification("quay", { body, receivedAt: new Date(iso) });
    const first = ids(await at("2026-01-02T03:00:00Z"));
    assert.deepEqual(ids(await at("2026-01-02T03:09:59.999Z")), first);
    assert.notDeepEqual(ids(await at("2026-01-02T03:10:00Z")), first);
    assert.notDeepEqual(ids(await at("2026-01-02T04:00:00Z")), first);
    // Without receivedAt the time is the call's.
    const before = Date.now();
    const now = await normalizeNotification("quay", { body });
    const time = Date.parse(now.events[0]?.timestamp as string);
    assert.ok(time >= before - 1 && time <= Date.now() + 1, now.events[0]?.timestamp);
  });

  it("keeps the ids of a payload re-serialized on its way (key order, spacing)", async () => {
    const reorder = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reorder)
        : typeof value === "object" && value !== null
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([k, v]) => [k, reorder(v)]),
            )
          : value;
    for (const [format, path] of [
      ["harbor", harborWire],
      ["dockerhub", dockerHubPush],
      ["quay", quayPush],
      ["github", githubPublished],
    ] as const) {
      const fixture = await registryFixture(path);
      const moved = JSON.stringify(reorder(JSON.parse(fixture.text)), null, 1);
      assert.notEqual(moved, fixture.text);
      assert.deepEqual(
        ids(await normalize(format, { body: moved })),
        ids(await normalize(format, { body: fixture.bytes })),
        path,
      );
    }
  });

  it("derives ids from the source's id when it sends one, else from the payload", async () => {
    // GitHub signs only the body: a replay under a new delivery id is the same event, and a
    // changed body under the same delivery id is another.
    const replayed = await normalize("github", {
      body: await sample(githubPublished),
      headers: { ...githubHeaders, "X-GitHub-Delivery": "a-new-guid" },
    });
    const first = await normalize("github", {
      body: await sample(githubPublished),
      headers: githubHeaders,
    });
    assert.deepEqual(ids(replayed), ids(first));
    const published = await sampleJson(githubPublished);
    published.sender.login = "someone-else";
    const changed = await normalize("github", {
      body: JSON.stringify(published),
      headers: githubHeaders,
    });
    assert.notDeepEqual(ids(changed), ids(first));
    // Without one, any change in the payload is another event.
    const docker = await sampleJson(dockerHubPush);
    docker.push_data.pushed_at += 1;
    const later = await normalize("dockerhub", { body: JSON.stringify(docker) });
    const original = await normalize("dockerhub", { body: await sample(dockerHubPush) });
    assert.notDeepEqual(ids(later), ids(original));
    // The same source id in another format is another event.
    const zot = await normalize(
      "zot",
      zotRequest({ "Ce-Id": "cb8c3971-9adc-488b-bdd8-43cbb4974ff5" }),
    );
    const acr = await normalize("acr", { body: await sample(acrPush) });
    assert.notDeepEqual(ids(zot), ids(acr));
  });

  it("is a UUIDv8 of SHA-256 over format, key and position, as documented", async () => {
    const uuid = async (text: string) => {
      const hash = new Uint8Array(
        await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
      );
      const hex = [...hash.slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
      const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
      const v = `${hex.slice(0, 12)}8${hex.slice(13, 16)}${variant}${hex.slice(17)}`;
      return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20)}`;
    };
    const acr = await normalize("acr", { body: await sample(acrPush) });
    assert.deepEqual(ids(acr), [await uuid("acr\nid:cb8c3971-9adc-488b-bdd8-43cbb4974ff5\n0")]);
    const push = await sampleJson(quayPush);
    push.updated_tags = ["a", "b"];
    const quay = await normalize("quay", { body: JSON.stringify(push) });
    const body = `body:${canonicalJson(push)}`;
    assert.equal(body, `body:${JSON.stringify(Object.fromEntries(Object.entries(push).sort()))}`);
    // Quay: the 10-minute window of receipt too (RECEIVED).
    const key = `${body}\nwindow:${Math.floor(Date.parse(RECEIVED) / 600_000)}`;
    assert.deepEqual(ids(quay), [await uuid(`quay\n${key}\n0`), await uuid(`quay\n${key}\n1`)]);
  });
});

describe("formats in: what the core accepts, no more", () => {
  it("refuses, as too large (413), a value over the core's key limits", async () => {
    const push = await sampleJson(quayPush);
    push.repository = `ns/${"r".repeat(2000)}`;
    await assert.rejects(normalizeNotification("quay", { body: JSON.stringify(push) }), (error) => {
      assert.ok(error instanceof FormatError && error.tooLarge, String(error));
      assert.deepEqual(error.issues, [
        {
          path: "events[0].target.repository",
          message: "is 2003 bytes long, over MAX_EVENT_KEY_BYTES (1024)",
        },
      ]);
      return true;
    });
  });

  it("never lets a source's own type pass for one of distribution's actions", async () => {
    const out = await normalize("zot", zotRequest({ "Ce-Type": "push" }));
    assert.deepEqual(out.events, []);
    assert.deepEqual(
      out.unsupported.map((event) => [event.action, originOf(event)?.type]),
      [["dev.registryrelay.zot.push", "push"]],
    );
  });
});

describe("formats in: refusals name the field and the reason", () => {
  it("refuses what is not a JSON object, in every format", async () => {
    for (const format of INPUT_FORMATS.filter((f) => f !== "distribution")) {
      const headers = format === "zot" ? zotHeaders : {};
      await refuses(format, { body: "", headers }, [{ path: "", message: "body is empty" }]);
      await refuses(format, { body: { events: [] } as unknown as string, headers }, [
        { path: "", message: "body must be a string, a Uint8Array or an ArrayBuffer" },
      ]);
      await refuses(format, { body: '{"type": ', headers }, [
        {
          path: "",
          message:
            "body is not valid JSON: unexpected end of input where a value was expected (line 1, column 10, position 9)",
        },
      ]);
      await refuses(format, { body: "[1]", headers }, [
        { path: "", message: "body must be a JSON object, not an array" },
      ]);
      await refuses(format, { body: new Uint8Array([0x7b, 0xff, 0x7d]), headers }, [
        { path: "", message: "body is not valid UTF-8 (malformed sequence at byte 1)" },
      ]);
      await refuses(
        format,
        {
          body: `${"[".repeat(70)}${"]".repeat(70)}`.replace(/^\[/, '{"a":[').replace(/\]$/, "]}"),
          headers,
        },
        [{ path: "", message: "body nests deeper than 64 levels" }],
      );
    }
  });

  it("Harbor", async () => {
    const wire = await sampleJson(harborWire);
    const body = (change: (value: typeof wire) => void) => {
      const copy = structuredClone(wire);
      change(copy);
      return JSON.stringify(copy);
    };
    const cases: [string, HeadersInput, FormatIssue][] = [
      [body((b) => delete b.type), {}, { path: "type", message: "is required" }],
      [
        body((b) => (b.occur_at = "1678082303")),
        {},
        { path: "occur_at", message: "must be a Unix time in seconds, not a string" },
      ],
      [
        body((b) => (b.occur_at = -1)),
        {},
        { path: "occur_at", message: "must be a Unix time in seconds, not -1" },
      ],
      [body((b) => delete b.event_data), {}, { path: "event_data", message: "is required" }],
      [
        body((b) => (b.event_data.resources = {})),
        {},
        { path: "event_data.resources", message: "must be an array, not an object" },
      ],
      [
        body((b) => (b.event_data.resources[0] = "x")),
        {},
        { path: "event_data.resources[0]", message: "must be an object, not a string" },
      ],
      [
        body((b) => (b.event_data.resources[0].tag = 1)),
        {},
        { path: "event_data.resources[0].tag", message: "must be a string, not a number" },
      ],
      [
        body((b) => {
          delete b.event_data.repository;
          delete b.event_data.resources[0].resource_url;
        }),
        {},
        { path: "event_data.repository.repo_full_name", message: "is required" },
      ],
      [
        body((b) => (b.operator = ["admin"])),
        {},
        { path: "operator", message: "must be a string, not an array" },
      ],
    ];
    const ce = await sampleJson(harborCloudEvent);
    const event = (change: (value: typeof ce) => void) => {
      const copy = structuredClone(ce);
      change(copy);
      return JSON.stringify(copy);
    };
    cases.push(
      [
        event((e) => (e.specversion = "0.3")),
        ceHeaders,
        { path: "specversion", message: 'must be "1.0", not "0.3"' },
      ],
      [event((e) => delete e.time), ceHeaders, { path: "time", message: "is required" }],
      [
        event((e) => (e.time = "2023-04-03 06:16:38")),
        ceHeaders,
        {
          path: "time",
          message: "must be an RFC 3339 timestamp such as 2006-01-02T15:04:05.999999999Z",
        },
      ],
      [event((e) => delete e.id), ceHeaders, { path: "id", message: "is required" }],
      [
        event((e) => (e.data = "{}")),
        ceHeaders,
        { path: "data", message: "must be an object, not a string" },
      ],
      [
        event((e) => {
          e.data.repository = null;
          delete e.data.resources[0].resource_url;
        }),
        {},
        { path: "data.repository.repo_full_name", message: "is required" },
      ],
      [
        JSON.stringify([ce]),
        { "content-type": "application/cloudevents-batch+json" },
        { path: "", message: "CloudEvents batched mode is not supported" },
      ],
    );
    for (const [text, headers, issue] of cases)
      await refuses("harbor", { body: text, headers }, [issue]);
  });

  it("GitHub", async () => {
    const published = await sampleJson(githubPublished);
    const body = (change: (value: typeof published) => void) => {
      const copy = structuredClone(published);
      change(copy);
      return JSON.stringify(copy);
    };
    const cases: [string, HeadersInput, FormatIssue][] = [
      [
        body((b) => delete b.package),
        {},
        {
          path: 'headers["x-github-event"]',
          message: "is required (the body has no package either)",
        },
      ],
      [body((b) => delete b.action), githubHeaders, { path: "action", message: "is required" }],
      [
        body((b) => (b.package = [])),
        githubHeaders,
        { path: "package", message: "must be an object, not an array" },
      ],
      [
        body((b) => (b.package.package_version = null)),
        githubHeaders,
        { path: "package.package_version", message: "is required" },
      ],
      [
        body((b) => {
          delete b.package.package_version.package_url;
          delete b.package.namespace;
        }),
        githubHeaders,
        { path: "package.package_version.package_url", message: "is required" },
      ],
      [
        body((b) => (b.package.package_version.container_metadata.manifest.size = "1782")),
        githubHeaders,
        {
          path: "package.package_version.container_metadata.manifest.size",
          message: "must be a non-negative integer, not a string",
        },
      ],
      [
        body((b) => (b.package.updated_at = "yesterday")),
        githubHeaders,
        {
          path: "package.updated_at",
          message: "must be an RFC 3339 timestamp such as 2006-01-02T15:04:05.999999999Z",
        },
      ],
      [
        body((b) => {
          delete b.package.updated_at;
          delete b.package.created_at;
        }),
        githubHeaders,
        { path: "package.updated_at", message: "is required" },
      ],
    ];
    for (const [text, headers, issue] of cases)
      await refuses("github", { body: text, headers }, [issue]);
  });

  it("Docker Hub", async () => {
    const push = await sampleJson(dockerHubPush);
    const body = (change: (value: typeof push) => void) => {
      const copy = structuredClone(push);
      change(copy);
      return JSON.stringify(copy);
    };
    const cases: [string, FormatIssue][] = [
      [body((b) => delete b.push_data.tag), { path: "push_data.tag", message: "is required" }],
      [
        body((b) => (b.push_data.tag = "")),
        { path: "push_data.tag", message: "must not be empty" },
      ],
      [body((b) => delete b.push_data), { path: "push_data", message: "is required" }],
      [
        body((b) => (b.push_data.pushed_at = "2014-12-03")),
        { path: "push_data.pushed_at", message: "must be a Unix time in seconds, not a string" },
      ],
      [
        body((b) => {
          delete b.repository.repo_name;
          delete b.repository.name;
        }),
        { path: "repository.repo_name", message: "is required" },
      ],
      [
        body((b) => (b.repository = "svendowideit/testhook")),
        { path: "repository", message: "must be an object, not a string" },
      ],
    ];
    for (const [text, issue] of cases) await refuses("dockerhub", { body: text }, [issue]);
    // FormatError's documented example, message and all.
    const example = '{"push_data":{"pushed_at":1417566161},"repository":{"repo_name":"a/b"}}';
    await assert.rejects(normalizeNotification("dockerhub", { body: example }), {
      name: "FormatError",
      message: "invalid dockerhub notification: push_data.tag: is required",
    });
  });

  it("Quay", async () => {
    const push = await sampleJson(quayPush);
    const cases: [object, FormatIssue][] = [
      [
        { ...push, repository: undefined },
        { path: "repository", message: "is required" },
      ],
      [
        { ...push, repository: { name: "test" } },
        { path: "repository", message: "must be a string, not an object" },
      ],
      [
        { ...push, updated_tags: "latest" },
        { path: "updated_tags", message: "must be an array, not a string" },
      ],
      [
        { ...push, updated_tags: ["latest", 2] },
        { path: "updated_tags[1]", message: "must be a tag (a non-empty string)" },
      ],
      [
        { ...push, docker_url: 1 },
        { path: "docker_url", message: "must be a string, not a number" },
      ],
    ];
    for (const [body, issue] of cases)
      await refuses("quay", { body: JSON.stringify(body) }, [issue]);
  });

  it("zot", async () => {
    const cases: [NotificationInput, FormatIssue][] = [
      [zotRequest({ "Ce-Id": undefined }), { path: 'headers["ce-id"]', message: "is required" }],
      [zotRequest({ "Ce-Type": "" }), { path: 'headers["ce-type"]', message: "must not be empty" }],
      [
        zotRequest({ "Ce-Source": undefined }),
        { path: 'headers["ce-source"]', message: "is required" },
      ],
      [
        zotRequest({ "Ce-Specversion": "0.3" }),
        { path: 'headers["ce-specversion"]', message: 'must be "1.0", not "0.3"' },
      ],
      [
        zotRequest({ "Ce-Time": "12 Jun 2025" }),
        {
          path: 'headers["ce-time"]',
          message: "must be an RFC 3339 timestamp such as 2006-01-02T15:04:05.999999999Z",
        },
      ],
      [zotRequest({}, { ...zotData, name: undefined }), { path: "name", message: "is required" }],
      [
        zotRequest({}, { ...zotData, actor: "alice" }),
        { path: "actor", message: "must be an object, not a string" },
      ],
      [
        zotRequest({}, { ...zotData, request: { addr: 1 } }),
        { path: "request.addr", message: "must be a string, not a number" },
      ],
      [
        {
          body: JSON.stringify({
            specversion: "1.0",
            id: "1",
            source: "s",
            type: "zotregistry.image.updated",
            data: { reference: "v1" },
          }),
          headers: ceHeaders,
        },
        { path: "data.name", message: "is required" },
      ],
      [{ body: "{}" }, { path: 'headers["ce-specversion"]', message: "is required" }],
    ];
    for (const [input, issue] of cases) await refuses("zot", input, [issue]);
  });

  it("ACR", async () => {
    const push = await sampleJson(acrPush);
    const cases: [object, FormatIssue][] = [
      [
        { ...push, id: undefined },
        { path: "id", message: "is required" },
      ],
      [
        { ...push, action: 1 },
        { path: "action", message: "must be a string, not a number" },
      ],
      [
        { ...push, timestamp: undefined },
        { path: "timestamp", message: "is required" },
      ],
      [
        { ...push, timestamp: "2017-11-17" },
        {
          path: "timestamp",
          message: "must be an RFC 3339 timestamp such as 2006-01-02T15:04:05.999999999Z",
        },
      ],
      [
        { ...push, target: undefined },
        { path: "target", message: "is required" },
      ],
      [
        { ...push, target: { ...push.target, repository: "" } },
        { path: "target.repository", message: "must not be empty" },
      ],
      [
        { ...push, target: { ...push.target, size: -1 } },
        { path: "target.size", message: "must be a non-negative integer, not -1" },
      ],
      [
        { ...push, request: "x" },
        { path: "request", message: "must be an object, not a string" },
      ],
    ];
    for (const [body, issue] of cases)
      await refuses("acr", { body: JSON.stringify(body) }, [issue]);
  });

  it("distribution: parseEnvelope's issues, the EnvelopeError as cause", async () => {
    await assert.rejects(
      normalizeNotification("distribution", { body: '{"events":[{"id":"1"}]}' }),
      (error: unknown) => {
        assert.ok(error instanceof FormatError);
        assert.ok(error.cause instanceof EnvelopeError);
        assert.deepEqual(error.issues, (error.cause as EnvelopeError).issues);
        assert.deepEqual(error.issues[0], { path: "events[0].timestamp", message: "is required" });
        assert.equal(error.tooLarge, false);
        return true;
      },
    );
  });

  it("refuses an unknown format with a TypeError", async () => {
    assert.throws(
      () => normalizeNotification("ecr" as InputFormat, { body: "{}" }),
      /unknown notification format "ecr": one of distribution, harbor, github, dockerhub, quay, zot, acr/,
    );
  });
});

describe("formats in: the model", () => {
  it("names the formats and reads an event's origin", async () => {
    assert.deepEqual(INPUT_FORMATS, [
      "distribution",
      "harbor",
      "github",
      "dockerhub",
      "quay",
      "zot",
      "acr",
    ]);
    assert.ok(INPUT_FORMATS.every(isInputFormat));
    assert.equal(isInputFormat("ecr"), false);
    assert.equal(isInputFormat(1), false);
    const base = { id: "1", timestamp: RECEIVED, action: "push", target: { repository: "r" } };
    assert.equal(originOf(base), undefined);
    assert.equal(
      originOf({ ...base, origin: { format: "ecr", type: "push" } } as Event),
      undefined,
    );
    assert.deepEqual(
      originOf({ ...base, origin: { format: "quay", type: "repo_push", x: 1 } } as Event),
      {
        format: "quay",
        type: "repo_push",
      },
    );
  });
});
