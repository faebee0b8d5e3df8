// The output of src/formats/cloudevents.ts and src/formats/cdevents.ts against the specs' own JSON
// schemas (test/fixtures/registries/standards: CloudEvents 1.0 draft-07, CDEvents 0.5.1 Draft
// 2020-12), for every captured distribution event. Node only: ajv compiles validators with
// `new Function`, which workerd forbids.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseEnvelope } from "../../src/event/envelope.ts";
import type { Event } from "../../src/event/schema.ts";
import { type CDEventMessage, toCDEvent } from "../../src/formats/cdevents.ts";
import { toCloudEvent, toCloudEventsBody } from "../../src/formats/cloudevents.ts";
import {
  distributionFixtureNames,
  distributionFixturesDir,
  standardsDir,
} from "../fixtures/paths.mjs";
import {
  cdeventsDir,
  cdSchemas,
  checkCDEvent,
  checkCloudEvent,
  jsonFiles,
  readJson,
} from "../support/standards.ts";

/** Every event of every captured envelope, with its file name. */
const fixtureEvents: { name: string; event: Event }[] = distributionFixtureNames().flatMap((name) =>
  parseEnvelope(readFileSync(join(distributionFixturesDir, name))).events.map((event) => ({
    name,
    event,
  })),
);

/** What the headers of a binary-mode message say, percent-decoded, must match its body. */
function headersAgree(message: CDEventMessage) {
  const cdevent = JSON.parse(message.body);
  const header = (name: string) => decodeURIComponent(message.headers[name] ?? "");
  expect(message.headers["ce-specversion"]).toBe("1.0");
  expect(message.headers["content-type"]).toBe("application/json");
  expect(header("ce-id")).toBe(cdevent.context.id);
  expect(header("ce-source")).toBe(cdevent.context.source);
  expect(header("ce-type")).toBe(cdevent.context.type);
  expect(header("ce-subject")).toBe(cdevent.subject.id);
  expect(header("ce-time")).toBe(cdevent.context.timestamp);
  for (const value of Object.values(message.headers)) expect(value).toMatch(/^[!-~][ -~]*$/);
}

describe("the validators accept the specs' own examples", () => {
  it("CloudEvents: the JSON format examples (one event each, and each event of the batch)", () => {
    const dir = join(standardsDir, "cloudevents/examples");
    const examples = jsonFiles(dir).flatMap((name) => {
      const value = readJson(join(dir, name));
      return Array.isArray(value) ? value : [value];
    });
    expect(examples.length).toBe(5);
    for (const example of examples) expect(checkCloudEvent(example)).toEqual([]);
  });

  it("CDEvents 0.5.1: each artifact example against its schema", () => {
    const dir = join(cdeventsDir, "examples");
    const names = jsonFiles(dir);
    expect(names.length).toBe(5);
    expect(cdSchemas.size).toBe(5);
    for (const name of names) expect(checkCDEvent(readJson(join(dir, name))), name).toEqual([]);
  });
});

describe("src/formats output is valid", () => {
  it("every captured event as a CloudEvent, and each envelope's body", () => {
    expect(fixtureEvents.length).toBeGreaterThan(70);
    for (const { name, event } of fixtureEvents) {
      expect(checkCloudEvent(toCloudEvent(event)), name).toEqual([]);
      expect(checkCloudEvent(JSON.parse(JSON.stringify(toCloudEvent(event)))), name).toEqual([]);
    }
    for (const name of new Set(fixtureEvents.map((entry) => entry.name))) {
      const events = fixtureEvents.filter((entry) => entry.name === name).map((e) => e.event);
      const parsed = JSON.parse(toCloudEventsBody(events).body);
      for (const ce of Array.isArray(parsed) ? parsed : [parsed])
        expect(checkCloudEvent(ce), name).toEqual([]);
    }
    const batch = JSON.parse(toCloudEventsBody(fixtureEvents.map((entry) => entry.event)).body);
    for (const ce of batch) expect(checkCloudEvent(ce)).toEqual([]);
  });

  it("every captured manifest event as a CDEvent against its 0.5.1 schema; blobs skipped", () => {
    const counts: Record<string, number> = {};
    for (const { name, event } of fixtureEvents) {
      const message = toCDEvent(event);
      const kind = message
        ? (message.headers["ce-type"] ?? "")
        : `skipped ${event.action} ${event.target.mediaType ?? (event.target.tag ? "tag" : "-")}`;
      counts[kind] = (counts[kind] ?? 0) + 1;
      if (!message) continue;
      expect(checkCDEvent(JSON.parse(message.body)), name).toEqual([]);
      headersAgree(message);
    }
    // The capture's manifest pushes, pulls and digest deletes are sent; every blob event, mount
    // and tag delete is skipped (fixtures 038 and 042 delete manifests, 044 a blob: see the rule).
    expect(counts).toEqual({
      "dev.cdevents.artifact.published.0.3.0": 10,
      "dev.cdevents.artifact.downloaded.0.2.0": 17,
      "dev.cdevents.artifact.deleted.0.2.0": 3,
      "skipped mount application/octet-stream": 7,
      "skipped pull application/octet-stream": 27,
      "skipped push application/octet-stream": 12,
      "skipped delete tag": 3,
    });
  });

  it("events beyond the capture: users, other registries, hosts with ports, odd ids", () => {
    const base = fixtureEvents.find(({ event }) => event.action === "push" && event.target.tag);
    if (!base) throw new Error("no tagged push in the fixtures");
    const variants: Event[] = [
      { ...base.event, actor: { name: "alice" } },
      { ...base.event, id: 'a b"c%€', request: { host: "[::1]:5000" } },
      { ...base.event, request: {}, source: {} },
      { ...base.event, target: { ...base.event.target, repository: "Team-A/Sub/App" } },
      { ...base.event, origin: { format: "harbor", type: "PUSH_ARTIFACT" } },
      { ...base.event, origin: { format: "zot", type: "zotregistry.image.updated", id: "z-1" } },
      { ...base.event, action: "pull" },
      { ...base.event, action: "delete", target: { repository: "a/b", digest: "sha256:00" } },
    ];
    for (const event of variants) {
      expect(checkCloudEvent(toCloudEvent(event, { source: "/registries/prod" }))).toEqual([]);
      const message = toCDEvent(event, { source: "https://registry.example.com/" });
      if (!message) throw new Error(`not sent: ${JSON.stringify(event)}`);
      expect(checkCDEvent(JSON.parse(message.body))).toEqual([]);
      headersAgree(message);
    }
    const scan = { ...base.event, action: "harbor.scan.completed" };
    expect(checkCloudEvent(toCloudEvent(scan))).toEqual([]);
  });
});

describe("the validators reject broken output (so these tests can fail)", () => {
  const event = fixtureEvents.find((entry) => entry.event.target.tag)?.event as Event;
  const ce = toCloudEvent(event) as unknown as Record<string, unknown>;
  const message = toCDEvent(event);
  if (!message) throw new Error("the first tagged fixture event is a manifest push");
  const cdevent = JSON.parse(message.body);
  const checkPublished = cdSchemas.get("dev.cdevents.artifact.published.0.3.0");
  if (!checkPublished) throw new Error("no artifact.published schema");

  it("start from valid output", () => {
    expect(checkCloudEvent(ce)).toEqual([]);
    expect(checkPublished(cdevent)).toEqual([]);
  });

  it("CloudEvents: a missing id, an empty type, a source that is no URI-reference, a bad time", () => {
    const { id: _, ...noId } = ce;
    expect(checkCloudEvent(noId)).not.toEqual([]);
    expect(checkCloudEvent({ ...ce, type: "" })).not.toEqual([]);
    expect(checkCloudEvent({ ...ce, source: "//bad host" })).not.toEqual([]);
    expect(checkCloudEvent({ ...ce, time: "27/11/2026" })).not.toEqual([]);
  });

  it("CDEvents: a wrong type version, no subject content, an unknown context field, a bad source", () => {
    const published = { ...cdevent.context, type: "dev.cdevents.artifact.published.0.2.0" };
    expect(checkPublished({ ...cdevent, context: published })).not.toEqual([]);
    const { content: _, ...noContent } = cdevent.subject;
    expect(checkCDEvent({ ...cdevent, subject: noContent })).not.toEqual([]);
    expect(checkCDEvent({ ...cdevent, context: { ...cdevent.context, extra: 1 } })).not.toEqual([]);
    expect(
      checkCDEvent({ ...cdevent, context: { ...cdevent.context, source: "a b" } }),
    ).not.toEqual([]);
    expect(
      checkCDEvent({ ...cdevent, subject: { ...cdevent.subject, content: { user: "" } } }),
    ).not.toEqual([]);
  });
});
