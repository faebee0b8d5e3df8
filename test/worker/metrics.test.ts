import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admin, envelopeOf, event, eventually, ingest, relay } from "./relay-helpers.ts";

const manifest = "application/vnd.oci.image.manifest.v1+json";

/** Parses Prometheus text into `name{labels}` → value, checking every line's syntax. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const match =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$/.exec(
        line,
      );
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    out.set(`${match[1]}${match[2] ?? ""}`, Number(match[3]));
  }
  return out;
}

describe("GET /metrics", () => {
  it("needs the admin token", async () => {
    expect((await SELF.fetch(`${relay}/metrics`)).status).toBe(401);
  });

  it("serves Prometheus text with upstream's names, dead letters and a latency histogram", async () => {
    const events = [event("push", "metrics/a", manifest), event("push", "metrics/b", manifest)];
    expect((await ingest(envelopeOf(...events))).status).toBe(202);
    const text = await eventually(async () => {
      const response = await admin("/metrics");
      expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const body = await response.text();
      return samples(body).get(
        'registry_notifications_events_total{type="Successes",endpoint="inbox"}',
      ) === 2
        ? body
        : undefined;
    });
    const values = samples(text);
    for (const family of [
      "registry_notifications_events_total counter",
      "registry_notifications_pending_total gauge",
      "registry_notifications_status_total counter",
      "registry_relay_dead_letters gauge",
      "registry_relay_delivery_latency_ms histogram",
    ]) {
      expect(text).toContain(`# TYPE ${family}`);
    }
    for (const endpoint of ["inbox", "manifests", "sharded", "rejecting", "off"]) {
      for (const type of ["Events", "Successes", "Failures", "Errors"]) {
        expect(
          values.has(`registry_notifications_events_total{type="${type}",endpoint="${endpoint}"}`),
        ).toBe(true);
      }
      expect(values.has(`registry_notifications_pending_total{endpoint="${endpoint}"}`)).toBe(true);
      expect(values.has(`registry_relay_dead_letters{endpoint="${endpoint}"}`)).toBe(true);
    }
    expect(values.get('registry_notifications_events_total{type="Events",endpoint="inbox"}')).toBe(
      2,
    );
    expect(values.get('registry_notifications_status_total{code="200 OK",endpoint="inbox"}')).toBe(
      2,
    );
    expect(values.get('registry_notifications_pending_total{endpoint="inbox"}')).toBe(0);

    // Histogram: cumulative buckets ending in +Inf = count.
    const bounds = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000];
    const buckets = [...bounds.map(String), "+Inf"].map(
      (le) =>
        values.get(`registry_relay_delivery_latency_ms_bucket{endpoint="inbox",le="${le}"}`) ??
        Number.NaN,
    );
    for (let i = 1; i < buckets.length; i++)
      expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1]!);
    expect(buckets.at(-1)).toBe(2);
    expect(values.get('registry_relay_delivery_latency_ms_count{endpoint="inbox"}')).toBe(2);
    expect(
      values.get('registry_relay_delivery_latency_ms_sum{endpoint="inbox"}'),
    ).toBeGreaterThanOrEqual(0);
  });

  it("counts dead letters and failed attempts by status", async () => {
    expect((await ingest(envelopeOf(event("delete", "metrics/gone")))).status).toBe(202);
    const values = await eventually(async () => {
      const v = samples(await (await admin("/metrics")).text());
      return v.get('registry_relay_dead_letters{endpoint="rejecting"}') === 1 ? v : undefined;
    });
    expect(
      values.get('registry_notifications_events_total{type="Failures",endpoint="rejecting"}'),
    ).toBe(1);
    expect(
      values.get(
        'registry_notifications_status_total{code="422 Unprocessable Entity",endpoint="rejecting"}',
      ),
    ).toBe(1);
  });
});
