// Every registry in, the CNCF standards out, through the relay as it runs (`wrangler dev`): each
// shared vendor sample goes in through POST /v1/events/{format} with the auth its registry can
// send (a bearer header, `?token=`, GitHub's signature), and comes out at local receivers as
// distribution envelopes, as CloudEvents and as CDEvents, each checked against the core's own
// normalization and, for the standards, against the specs' JSON schemas (ajv). `match` routes by
// glob; resends are duplicates; tokens and secrets never reach the relay's log.
import { createHmac } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { EventsMediaType as v1, EventsMediaTypeV2 as v2 } from "../../src/event/constants.ts";
import { encodeEnvelope } from "../../src/event/envelope.ts";
import type { Event } from "../../src/event/schema.ts";
import { toCDEvent } from "../../src/formats/cdevents.ts";
import { toCloudEvent } from "../../src/formats/cloudevents.ts";
import type { InputFormat } from "../../src/formats/model.ts";
import { normalizeNotification } from "../../src/formats/normalize.ts";
import { verifyWebhook } from "../../src/webhooks/verify.ts";
import { registriesFixturesDir } from "../fixtures/paths.mjs";
import { startRelay } from "../support/relay-process.mjs";
import { checkCDEvent, checkCloudEvent } from "../support/standards.ts";

const ingestToken = "formats-ingest-token-5c9e41d2";
const adminToken = "formats-admin-token-77aa";
const githubSecret = "formats-github-secret-e1f0";
const signingSecret = "whsec_Zm9ybWF0cy10ZXN0LXNpZ25pbmcta2V5LTMyLWJ5dGVzIQ==";

/** One POST a receiver got. */
interface Delivery {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** One notification as its registry sends it. */
interface Sample {
  name: string;
  format: InputFormat;
  body: string;
  headers: Record<string, string>;
  /** How it authenticates: a bearer header, `?token=`, or GitHub's signature. */
  auth: "bearer" | "query" | "github";
}

const fixture = (path: string) => readFile(join(registriesFixturesDir, path), "utf8");

// zot publishes no sample: its binary-mode request as FORMATS.md describes its HTTP sink.
const zotData = {
  name: "zot/app",
  reference: "v2.1",
  digest: "sha256:7e4d58f0e5f9a8c2b1d3e6f4a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0",
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  manifest: JSON.stringify({ schemaVersion: 2, layers: [] }),
};
// A Harbor scan: no distribution action, so CloudEvents endpoints only.
const harborScan = {
  type: "SCANNING_COMPLETED",
  occur_at: 1764460800,
  operator: "auto",
  event_data: {
    resources: [
      { digest: "sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4" },
    ],
    repository: { name: "alpine", namespace: "harbor", repo_full_name: "harbor/alpine" },
  },
};

/** Every sample, read once for the file (the tests only read them). */
let loaded: Promise<Sample[]> | undefined;
const samples = (): Promise<Sample[]> => {
  loaded ??= readSamples();
  return loaded;
};

async function readSamples(): Promise<Sample[]> {
  const json = { "content-type": "application/json" };
  return [
    {
      name: "harbor push",
      format: "harbor",
      body: await fixture("harbor/website-default-push-artifact.json"),
      headers: json,
      auth: "bearer",
    },
    {
      name: "harbor pull",
      format: "harbor",
      body: await fixture("harbor/website-default-pull-artifact.json"),
      headers: json,
      auth: "bearer",
    },
    {
      name: "harbor pull (source test)",
      format: "harbor",
      body: await fixture("harbor/src-default-test-wire-pull.json"),
      headers: json,
      auth: "bearer",
    },
    {
      name: "harbor CloudEvents delete",
      format: "harbor",
      body: await fixture("harbor/website-cloudevents-artifact-deleted.json"),
      headers: { "content-type": "application/cloudevents+json" },
      auth: "bearer",
    },
    {
      name: "harbor scan",
      format: "harbor",
      body: JSON.stringify(harborScan),
      headers: json,
      auth: "bearer",
    },
    {
      name: "github package",
      format: "github",
      body: await fixture("github/package-published-docker.json"),
      headers: {
        ...json,
        "x-github-event": "package",
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      },
      auth: "github",
    },
    {
      name: "docker hub push",
      format: "dockerhub",
      body: await fixture("dockerhub/docs-push-webhook.json"),
      headers: json,
      auth: "query",
    },
    {
      name: "quay repo_push",
      format: "quay",
      body: await fixture("quay/docs-repo_push.json"),
      headers: json,
      auth: "query",
    },
    {
      name: "acr push",
      format: "acr",
      body: await fixture("acr/azuredocs-2017-push.json"),
      headers: json,
      auth: "bearer",
    },
    {
      name: "gitlab envelope",
      format: "distribution",
      body: await fixture("gitlab/test-envelope-push-manifest-and-2-layers.json"),
      headers: { "content-type": v1 },
      auth: "bearer",
    },
    {
      name: "zot image updated",
      format: "zot",
      body: JSON.stringify(zotData),
      headers: {
        ...json,
        "ce-id": "5b7f3a3e-1c1d-4d2c-9a55-5a2e3c8d9f10",
        "ce-source": "zotregistry.dev",
        "ce-specversion": "1.0",
        "ce-type": "zotregistry.image.updated",
        "ce-time": "2026-11-30T00:00:00Z",
      },
      auth: "bearer",
    },
  ];
}

describe("formats end to end (wrangler dev)", () => {
  let dir: string;
  let log: string;
  let receiver: Server;
  let receiverUrl: string;
  const deliveries: Delivery[] = [];
  let relay: Awaited<ReturnType<typeof startRelay>>;

  const post = (sample: Sample, overrides: { token?: string; signature?: string } = {}) => {
    const headers = { ...sample.headers };
    let query = "";
    const token = overrides.token ?? ingestToken;
    if (sample.auth === "bearer") headers.authorization = `Bearer ${token}`;
    if (sample.auth === "query") query = `?token=${encodeURIComponent(token)}`;
    if (sample.auth === "github") {
      headers["x-hub-signature-256"] =
        overrides.signature ??
        `sha256=${createHmac("sha256", githubSecret).update(sample.body).digest("hex")}`;
    }
    return fetch(`${relay.url}/v1/events/${sample.format}${query}`, {
      method: "POST",
      headers,
      body: sample.body,
    });
  };
  const at = (path: string) => deliveries.filter((delivery) => delivery.path === path);
  const until = (done: () => boolean, what: string, timeout = 45_000) =>
    vi.waitFor(
      () => {
        if (!done()) throw new Error(`timed out waiting for ${what}`);
      },
      { timeout, interval: 100 },
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "registry-relay-formats-"));
    log = join(dir, "relay.log");
    receiver = createServer((request, response) => {
      const parts: Buffer[] = [];
      request.on("data", (part: Buffer) => parts.push(part));
      request.on("end", () => {
        deliveries.push({
          path: request.url ?? "",
          headers: request.headers,
          body: Buffer.concat(parts).toString("utf8"),
        });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const endpoints = [
      { name: "envelopes", url: `${receiverUrl}/envelopes` },
      {
        name: "cloudevents",
        url: `${receiverUrl}/cloudevents`,
        format: "cloudevents",
        secret: signingSecret,
      },
      { name: "cdevents", url: `${receiverUrl}/cdevents`, format: "cdevents" },
      {
        name: "harbor-team",
        url: `${receiverUrl}/harbor-team`,
        format: "cloudevents",
        match: { repositories: ["harbor/**"], actions: ["push", "delete"], sources: ["harbor"] },
      },
      { name: "releases", url: `${receiverUrl}/releases`, match: { tags: ["v*"] } },
      // The endpoint's own line applies to normalized events (a registry's bytes keep theirs).
      {
        name: "acr-v2",
        url: `${receiverUrl}/acr-v2`,
        mediaType: v2,
        match: { sources: ["acr"] },
      },
    ];
    relay = await startRelay({
      persistDir: join(dir, "state"),
      logFile: log,
      vars: {
        RELAY_ENDPOINTS: JSON.stringify(endpoints),
        RELAY_INGEST_TOKENS: ingestToken,
        RELAY_ADMIN_TOKEN: adminToken,
        RELAY_GITHUB_WEBHOOK_SECRET: githubSecret,
      },
    });
  }, 90_000);

  afterAll(async () => {
    await relay?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("takes every sample through its route and delivers each event in every endpoint's format", async () => {
    const all = await samples();
    const expected: { sample: string; event: Event }[] = [];
    for (const sample of all) {
      const normalized = await normalizeNotification(sample.format, {
        body: sample.body,
        headers: sample.headers,
      });
      const response = await post(sample);
      const answer = (await response.json()) as Record<string, unknown>;
      expect(response.status, `${sample.name}: ${JSON.stringify(answer)}`).toBe(202);
      expect(answer.accepted, sample.name).toBe(normalized.events.length);
      if (sample.format !== "distribution") {
        expect(answer.unsupported, sample.name).toBe(normalized.unsupported.length);
      }
      for (const event of [...normalized.events, ...normalized.unsupported]) {
        // Timestamps of sources without a time (Quay) are the receive time: compared without.
        expected.push({ sample: sample.name, event });
      }
    }
    const standard = expected.filter(({ event }) => !event.action.includes("."));
    const sendable = expected.filter(({ event }) => toCDEvent(event) !== undefined);
    await until(
      () =>
        at("/envelopes").length >= standard.length &&
        at("/cloudevents").length >= expected.length &&
        at("/cdevents").length >= sendable.length &&
        at("/harbor-team").length >= 2 &&
        at("/releases").length >= 2 &&
        at("/acr-v2").length >= 1,
      "every delivery",
    );
    await new Promise((resolve) => setTimeout(resolve, 1000)); // nothing more arrives
    // A token sent in a URL (Docker Hub, Quay) goes no further than the relay.
    for (const delivery of deliveries) {
      expect(JSON.stringify(delivery), delivery.path).not.toContain(ingestToken);
    }
    const stable = (event: Event) => ({ ...event, timestamp: "" });
    const byId = new Map(expected.map(({ event }) => [event.id, event]));

    // Distribution envelopes: every event with a distribution action, as the core made it.
    const envelopes = at("/envelopes").flatMap((d) => {
      expect(d.headers["content-type"]).toBe(v1);
      return (JSON.parse(d.body) as { events: Event[] }).events;
    });
    expect(envelopes.map(stable).sort(byIdOrder)).toEqual(
      standard.map((e) => stable(e.event)).sort(byIdOrder),
    );

    // CloudEvents: every event (the scan in Harbor's own type), schema-valid, signed.
    const cloudEvents = await Promise.all(
      at("/cloudevents").map(async (d) => {
        expect(d.headers["content-type"]).toBe("application/cloudevents+json");
        await verifyWebhook({
          secret: signingSecret,
          headers: d.headers as Record<string, string>,
          body: d.body,
        });
        const ce = JSON.parse(d.body);
        expect(checkCloudEvent(ce), d.body).toEqual([]);
        return ce;
      }),
    );
    expect(cloudEvents.map((ce) => ce.id).sort()).toEqual(expected.map((e) => e.event.id).sort());
    for (const ce of cloudEvents) {
      const event = byId.get(ce.id) as Event;
      expect({ ...ce, time: "", data: stable(ce.data) }).toEqual({
        ...toCloudEvent(event),
        time: "",
        data: stable(event),
      });
    }
    expect(cloudEvents.find((ce) => ce.type === "harbor.scan.completed")).toBeDefined();

    // CDEvents in binary mode: manifests only, each body valid against its 0.5.1 schema.
    const cdevents = at("/cdevents").map((d) => {
      expect(d.headers["content-type"]).toBe("application/json");
      expect(d.headers["ce-specversion"]).toBe("1.0");
      const cdevent = JSON.parse(d.body);
      expect(checkCDEvent(cdevent), d.body).toEqual([]);
      const event = byId.get(cdevent.context.id) as Event;
      const wanted = toCDEvent(event);
      expect(d.headers["ce-type"]).toBe(wanted?.headers["ce-type"]);
      expect(d.headers["ce-subject"]).toBe(wanted?.headers["ce-subject"]);
      return cdevent;
    });
    expect(cdevents.map((cd) => cd.context.id).sort()).toEqual(
      sendable.map((e) => e.event.id).sort(),
    );
    // Harbor's push, two pulls and delete, GitHub's, ACR's, GitLab's manifest and zot's.
    expect(sendable.map((e) => e.sample)).toEqual([
      "harbor push",
      "harbor pull",
      "harbor pull (source test)",
      "harbor CloudEvents delete",
      "github package",
      "acr push",
      "gitlab envelope",
      "zot image updated",
    ]);

    // match: harbor/** pushes and deletes from Harbor; tags v*.
    const team = at("/harbor-team").map((d) => JSON.parse(d.body));
    expect(team.map((ce) => [ce.type, ce.subject]).sort()).toEqual(
      [
        ["dev.registryrelay.artifact.deleted", "harbor/alpine:3.8"],
        ["dev.registryrelay.artifact.pushed", expect.stringMatching(/^harbor\/alpine@sha256:/)],
      ].sort(),
    );
    const [acr] = at("/acr-v2");
    expect(acr?.headers["content-type"]).toBe(v2);
    const acrEvent = expected.find((e) => e.sample === "acr push")?.event;
    expect(acr?.body).toBe(encodeEnvelope({ events: [acrEvent as Event] }, { mediaType: v2 }));
    const releases = at("/releases").flatMap(
      (d) => (JSON.parse(d.body) as { events: Event[] }).events,
    );
    expect(releases.map((e) => `${e.target.repository}:${e.target.tag}`).sort()).toEqual([
      "hello-world:v1",
      "zot/app:v2.1",
    ]);
  }, 120_000);

  it("counts a resent payload as a duplicate on every endpoint", async () => {
    const [push] = await samples();
    const response = await post(push as Sample);
    expect(response.status).toBe(202);
    const answer = (await response.json()) as {
      endpoints: { name: string; queued: number; duplicates: number }[];
    };
    for (const outcome of answer.endpoints) {
      expect(outcome.queued, outcome.name).toBe(0);
    }
    expect(answer.endpoints.find((e) => e.name === "envelopes")?.duplicates).toBe(1);
    expect(answer.endpoints.find((e) => e.name === "harbor-team")?.duplicates).toBe(1);
  });

  it("refuses missing and wrong credentials, a bad signature, and an unknown format", async () => {
    const all = await samples();
    const byAuth = (auth: Sample["auth"]) => all.find((sample) => sample.auth === auth) as Sample;
    for (const sample of [byAuth("bearer"), byAuth("query")]) {
      const wrong = await post(sample, { token: "not-the-token" });
      expect(wrong.status, sample.name).toBe(401);
      expect(await wrong.text()).not.toContain("not-the-token");
      const bare = await fetch(`${relay.url}/v1/events/${sample.format}`, {
        method: "POST",
        headers: sample.headers,
        body: sample.body,
      });
      expect(bare.status, sample.name).toBe(401);
    }
    const github = byAuth("github");
    for (const signature of [`sha256=${"0".repeat(64)}`, "sha1=abc", ""]) {
      const response = await post(github, { signature });
      expect(response.status, signature).toBe(401);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
        /X-Hub-Signature-256/,
      );
    }
    // A bearer token does not stand in for GitHub's signature once the secret is set.
    const tokenOnly = await fetch(`${relay.url}/v1/events/github`, {
      method: "POST",
      headers: { ...github.headers, authorization: `Bearer ${ingestToken}` },
      body: github.body,
    });
    expect(tokenOnly.status).toBe(401);
    const unknown = await fetch(`${relay.url}/v1/events/nexus?token=${ingestToken}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(unknown.status).toBe(404);
    const error = ((await unknown.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("unknown_format");
    expect(error.message).toContain("harbor, github, dockerhub, quay, zot, acr");
    const bad = await post({ ...byAuth("query"), body: '{"repository":{}}' });
    expect(bad.status).toBe(400);
    const { issues } = ((await bad.json()) as { error: { issues: unknown[] } }).error;
    expect(issues).toEqual([{ path: "push_data", message: "is required" }]);
    // A value the core would refuse as a key (a 2 KB repository) is 413, naming the field.
    const quay = all.find((sample) => sample.format === "quay") as Sample;
    const long = JSON.stringify({ ...JSON.parse(quay.body), repository: `ns/${"r".repeat(2000)}` });
    const tooLarge = await post({ ...quay, body: long });
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as { error: { issues: unknown[] } }).error.issues).toEqual([
      {
        path: "events[0].target.repository",
        message: "is 2003 bytes long, over MAX_EVENT_KEY_BYTES (1024)",
      },
    ]);
  });

  it("takes ?token= only where the registry cannot send a header", async () => {
    const all = await samples();
    const harbor = all.find((sample) => sample.format === "harbor") as Sample;
    const gitlab = all.find((sample) => sample.format === "distribution") as Sample;
    for (const path of ["/v1/events/harbor", "/v1/events/acr", "/v1/events/zot", "/v1/events"]) {
      const response = await fetch(`${relay.url}${path}?token=${ingestToken}`, {
        method: "POST",
        headers: path === "/v1/events" ? gitlab.headers : harbor.headers,
        body: path === "/v1/events" ? gitlab.body : harbor.body,
      });
      expect(response.status, path).toBe(401);
      expect(await response.text()).not.toContain(ingestToken);
    }
    // GitHub with its secret set: only the signature counts.
    const github = all.find((sample) => sample.format === "github") as Sample;
    const queried = await fetch(`${relay.url}/v1/events/github?token=${ingestToken}`, {
      method: "POST",
      headers: github.headers, // no X-Hub-Signature-256: post() adds it
      body: github.body,
    });
    expect(queried.status).toBe(401);
  });

  it("never writes a token or secret to the relay's log", async () => {
    const text = await readFile(log, "utf8");
    expect(text.length).toBeGreaterThan(0);
    for (const secret of [ingestToken, adminToken, githubSecret, signingSecret]) {
      expect(text).not.toContain(secret);
    }
  });
});

const byIdOrder = (a: Event, b: Event) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
