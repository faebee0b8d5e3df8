import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseEndpointConfig } from "../../src/endpoint/config.ts";
import { Endpoint } from "../../src/endpoint/endpoint.ts";
import { routesTo } from "../../src/endpoint/routing.ts";
import { EventsMediaType } from "../../src/event/constants.ts";
import type { OutputFormat } from "../../src/event/output.ts";
import type { Event } from "../../src/event/schema.ts";
import { cdEventsFormat, toCDEvent } from "../../src/formats/cdevents.ts";
import { cloudEventsFormat, toCloudEvent } from "../../src/formats/cloudevents.ts";
import { outputFormats } from "../../src/formats/output.ts";
import { HttpEncodeError, HttpSink } from "../../src/sinks/http.ts";
import { verifyWebhook } from "../../src/webhooks/webhooks.ts";
import { inbox, serverUrl, uniqueBucket } from "../support/env.ts";

// An endpoint's output format on the wire: the same events as envelopes, CloudEvents and
// CDEvents, and routing by `match` and by what a format can carry.

const secret = "whsec_aHR0cC1mb3JtYXRzLXRlc3Qtc2lnbmluZy1rZXkhIQ==";
const manifest = "application/vnd.oci.image.manifest.v1+json";
const event = (id: string, repository: string, tag?: string, mediaType = manifest): Event => ({
  id,
  timestamp: "2026-11-30T00:00:00Z",
  action: "push",
  target: {
    mediaType,
    digest: `sha256:${"ab".repeat(32)}`,
    repository,
    ...(tag === undefined ? {} : { tag }),
  },
  request: { host: "registry.example.com" },
});
const blob = event("blob-1", "team-a/app", undefined, "application/octet-stream");

describe("HttpSink formats", () => {
  it("cloudevents: one structured CloudEvent per POST, signed over the exact body", async () => {
    const bucket = uniqueBucket("formats-ce-single");
    const sink = new HttpSink(`${serverUrl}/inbox/${bucket}`, {
      format: cloudEventsFormat,
      secret,
    });
    const events = [event("e1", "team-a/app", "v1"), event("e2", "team-b/app")];
    await sink.write(...events);
    const got = await inbox(bucket);
    assert.equal(got.length, 2);
    for (const [i, request] of got.entries()) {
      assert.equal(request.headers["content-type"], "application/cloudevents+json");
      assert.deepEqual(JSON.parse(request.body), toCloudEvent(events[i] as Event));
      await verifyWebhook({ secret, headers: request.headers, body: request.body });
    }
    assert.equal(sink.toJSON().format, "cloudevents");
  });

  it("cloudevents with maxBatch > 1: the batch type for every POST, even of one event", async () => {
    const bucket = uniqueBucket("formats-ce-batch");
    const sink = new HttpSink(`${serverUrl}/inbox/${bucket}`, {
      format: cloudEventsFormat,
      maxBatch: 2,
    });
    const events = [event("b1", "r", "1"), event("b2", "r", "2"), event("b3", "r", "3")];
    await sink.write(...events);
    const got = await inbox(bucket);
    assert.deepEqual(
      got.map((request) => request.headers["content-type"]),
      ["application/cloudevents-batch+json", "application/cloudevents-batch+json"],
    );
    assert.deepEqual(
      got.map((request) => JSON.parse(request.body)),
      [events.slice(0, 2).map((e) => toCloudEvent(e)), [toCloudEvent(events[2] as Event)]],
    );
  });

  it("cdevents: binary mode, ce-* headers beside the configured ones; a blob is refused", async () => {
    const bucket = uniqueBucket("formats-cd");
    const sink = new HttpSink(`${serverUrl}/inbox/${bucket}`, {
      format: cdEventsFormat,
      headers: { "X-Team": "a" },
    });
    const pushed = event("c1", "team-a/app", "v1");
    await sink.write(pushed);
    const [request] = await inbox(bucket);
    const wanted = toCDEvent(pushed);
    assert.ok(wanted && request);
    assert.equal(request.body, wanted.body);
    for (const [name, value] of Object.entries(wanted.headers)) {
      assert.equal(request.headers[name], value, name);
    }
    assert.equal(request.headers["x-team"], "a");
    await assert.rejects(() => sink.write(blob), HttpEncodeError);
    assert.throws(
      () => new HttpSink(`${serverUrl}/inbox/${bucket}`, { format: cdEventsFormat, maxBatch: 5 }),
      /maxBatch must be 1 with format "cdevents"/,
    );
    for (const headers of [{ "Ce-Source": "x" }, new Headers({ "ce-type": "y" })]) {
      assert.throws(
        () => new HttpSink(`${serverUrl}/inbox/${bucket}`, { format: cdEventsFormat, headers }),
        /headers must not set ce-\* with format "cdevents"/,
      );
    }
    assert.throws(
      () => new HttpSink(`${serverUrl}/inbox/${bucket}`, { format: "xml" as "cdevents" }),
      /httpSink: format must be "distribution" or an OutputFormat \(outputFormats of registry-relay\/formats\)$/,
    );
    // A name of registry-relay/formats without its object: how to pass it, not a bare refusal.
    assert.throws(
      () => new HttpSink(`${serverUrl}/inbox/${bucket}`, { format: "cdevents" }),
      /httpSink: format must be "distribution" or an OutputFormat \(outputFormats of registry-relay\/formats\)$/,
    );
  });

  it("writeEncoded: stored texts go out as CloudEvents too", async () => {
    const bucket = uniqueBucket("formats-ce-encoded");
    const sink = new HttpSink(`${serverUrl}/inbox/${bucket}`, {
      format: outputFormats.cloudevents,
    });
    const one = event("t1", "r", "v1");
    await sink.writeEncoded({ id: one.id, text: JSON.stringify(one), mediaType: EventsMediaType });
    const [request] = await inbox(bucket);
    assert.deepEqual(JSON.parse(request?.body ?? ""), toCloudEvent(one));
    await assert.rejects(
      () => sink.writeEncoded({ id: "x", text: "{not json", mediaType: EventsMediaType }),
      HttpEncodeError,
    );
  });
});

describe("Endpoint routing", () => {
  it("sends only what its format carries and its match rules select", async () => {
    const bucket = uniqueBucket("formats-endpoint");
    const endpoint = new Endpoint("team-a", `${serverUrl}/inbox/${bucket}`, {
      format: cdEventsFormat,
      match: { repositories: ["team-a/**"], tags: ["v*"] },
    });
    const scan: Event = {
      ...event("s1", "team-a/app", "v1"),
      action: "harbor.scan.completed",
      origin: { format: "harbor", type: "SCANNING_COMPLETED" },
    };
    await endpoint.write(
      event("a1", "team-a/app", "v1"),
      event("a2", "team-a/sub/app", "v2.0"),
      event("a3", "team-a/app", "latest"), // tag
      event("b1", "team-b/app", "v1"), // repository
      blob, // no CDEvents type
      scan, // another registry's own type
    );
    await endpoint.close();
    const got = await inbox(bucket);
    assert.deepEqual(
      got.map((request) => request.headers["ce-id"]),
      ["a1", "a2"],
    );
    assert.equal(endpoint.metrics().failures, 0);
  });

  it("a distribution endpoint keeps GitLab's rename but not another registry's scan", async () => {
    const bucket = uniqueBucket("formats-endpoint-distribution");
    const endpoint = new Endpoint("all", `${serverUrl}/inbox/${bucket}`, { maxBatch: 10 });
    const rename: Event = { ...event("r1", "group/app"), action: "rename" };
    const scan: Event = { ...event("s1", "group/app"), action: "harbor.scan.completed" };
    await endpoint.write(rename, scan, event("p1", "group/app", "v1"));
    await endpoint.close();
    const ids = (await inbox(bucket)).flatMap((request) =>
      (JSON.parse(request.body) as { events: Event[] }).events.map((e) => e.id),
    );
    assert.deepEqual(ids, ["r1", "p1"]);
  });

  it("takes an output format of your own: its events, content type and body, signed and batched", async () => {
    const bucket = uniqueBucket("formats-endpoint-custom");
    const chat: OutputFormat = {
      name: "chat",
      accepts: (e) => e.target.tag !== undefined,
      contentType: ({ maxBatch }) => `application/x-chat; batch=${maxBatch}`,
      body: (batch) =>
        JSON.stringify({ text: batch.map((e) => `${e.target.repository}:${e.target.tag}`) }),
    };
    const endpoint = new Endpoint("chat", `${serverUrl}/inbox/${bucket}`, {
      format: chat,
      maxBatch: 5,
      secret,
    });
    await endpoint.write(event("t1", "team/app", "v1"), blob, event("t2", "team/app", "v2"));
    await endpoint.close();
    assert.equal(JSON.parse(JSON.stringify(endpoint)).format, "chat");
    const [request, ...more] = await inbox(bucket);
    assert.equal(more.length, 0);
    assert.equal(request?.headers["content-type"], "application/x-chat; batch=5");
    assert.equal(request?.body, '{"text":["team/app:v1","team/app:v2"]}');
    await verifyWebhook({ secret, headers: request?.headers ?? {}, body: request?.body ?? "" });
  });

  it("routesTo takes a parsed config as it is for envelopes, and a format object for the others", () => {
    const scan: Event = { ...event("s1", "team-a/app"), action: "harbor.scan.completed" };
    const events = [event("p1", "team-a/app", "v1"), scan, blob];
    const parsed = parseEndpointConfig({ url: "https://h.example/", match: { tags: ["v*"] } });
    assert.deepEqual(
      events.filter(routesTo(parsed)).map((e) => e.id),
      ["p1"],
    );
    const cd = parseEndpointConfig({ url: "https://h.example/", format: "cdevents" });
    assert.throws(() => routesTo(cd), /routesTo: format must be "distribution" or an OutputFormat/);
    const format = outputFormats[cd.format];
    assert.deepEqual(
      events.filter(routesTo({ ...cd, format })).map((e) => e.id),
      ["p1"],
    );
    const all = routesTo({ format: outputFormats.cloudevents });
    assert.deepEqual(
      events.filter(all).map((e) => e.id),
      ["p1", "s1", "blob-1"],
    );
  });

  it("takes a lone string where typed settings want a list (JavaScript callers)", async () => {
    const bucket = uniqueBucket("formats-endpoint-lone-strings");
    const endpoint = new Endpoint("lone", `${serverUrl}/inbox/${bucket}`, {
      ignore: { actions: "pull" as never },
      match: { repositories: "team-a/**" as never },
    });
    const pull: Event = { ...event("pull-1", "team-a/app"), action: "pull" };
    await endpoint.write(pull, event("a1", "team-a/app"), event("b1", "team-b/app"));
    await endpoint.close();
    const ids = (await inbox(bucket)).flatMap((request) =>
      (JSON.parse(request.body) as { events: Event[] }).events.map((e) => e.id),
    );
    assert.deepEqual(ids, ["a1"]);
  });
});
