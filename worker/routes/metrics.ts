// GET /metrics: the Prometheus text format (0.0.4) with distribution's metric names, so
// dashboards built for a registry's own debug server keep working, plus the relay's own.
import type { EndpointSnapshot } from "../admin-api.ts";

/** The `Content-Type` of the Prometheus text exposition format that scrapers expect. */
export const prometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

/** Label values escape backslash, double quote and newline, as the format requires. */
const escapeLabel = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

const labels = (pairs: Record<string, string>): string =>
  `{${Object.entries(pairs)
    .map(([name, value]) => `${name}="${escapeLabel(value)}"`)
    .join(",")}}`;

const number = (value: number): string =>
  Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : value < 0 ? "-Inf" : "NaN";

function family(name: string, type: string, help: string, samples: string[]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples];
}

/**
 * Renders endpoint snapshots as Prometheus text:
 * `registry_notifications_events_total{type="Events"|"Successes"|"Failures"|"Errors",endpoint}`,
 * `registry_notifications_pending_total{endpoint}` (a gauge, named as upstream),
 * `registry_notifications_status_total{code="200 OK",endpoint}`, and the relay's
 * `registry_relay_dead_letters{endpoint}`, `registry_relay_oldest_pending_age_ms{endpoint}`,
 * `registry_relay_paused{endpoint}` and the histogram `registry_relay_delivery_latency_ms`
 * (ingest accepted → 2xx receipt).
 */
export function renderPrometheus(snapshots: readonly EndpointSnapshot[]): string {
  const events: string[] = [];
  const pending: string[] = [];
  const statuses: string[] = [];
  const dead: string[] = [];
  const oldest: string[] = [];
  const paused: string[] = [];
  const latency: string[] = [];
  for (const s of snapshots) {
    const endpoint = s.name;
    const counts: [string, number][] = [
      ["Events", s.metrics.events],
      ["Successes", s.metrics.successes],
      ["Failures", s.metrics.failures],
      ["Errors", s.metrics.errors],
    ];
    for (const [type, value] of counts) {
      events.push(
        `registry_notifications_events_total${labels({ type, endpoint })} ${number(value)}`,
      );
    }
    pending.push(
      `registry_notifications_pending_total${labels({ endpoint })} ${s.metrics.pending}`,
    );
    for (const code of Object.keys(s.metrics.statuses).sort()) {
      const value = s.metrics.statuses[code] ?? 0;
      statuses.push(`registry_notifications_status_total${labels({ code, endpoint })} ${value}`);
    }
    dead.push(`registry_relay_dead_letters${labels({ endpoint })} ${s.deadLetters}`);
    oldest.push(
      `registry_relay_oldest_pending_age_ms${labels({ endpoint })} ${s.oldestPendingAgeMs ?? 0}`,
    );
    paused.push(`registry_relay_paused${labels({ endpoint })} ${s.state === "paused" ? 1 : 0}`);
    s.latency.boundsMs.forEach((bound, index) => {
      const le = String(bound);
      latency.push(
        `registry_relay_delivery_latency_ms_bucket${labels({ endpoint, le })} ${s.latency.buckets[index] ?? 0}`,
      );
    });
    latency.push(
      `registry_relay_delivery_latency_ms_bucket${labels({ endpoint, le: "+Inf" })} ${s.latency.count}`,
      `registry_relay_delivery_latency_ms_sum${labels({ endpoint })} ${number(s.latency.sum)}`,
      `registry_relay_delivery_latency_ms_count${labels({ endpoint })} ${s.latency.count}`,
    );
  }
  return [
    ...family(
      "registry_notifications_events_total",
      "counter",
      "Events accepted (type Events) and delivery attempts by outcome (Successes, Failures, Errors), per endpoint.",
      events,
    ),
    ...family(
      "registry_notifications_pending_total",
      "gauge",
      "Events accepted but not yet delivered or dead-lettered, per endpoint.",
      pending,
    ),
    ...family(
      "registry_notifications_status_total",
      "counter",
      "Delivery attempts per HTTP status of the endpoint's answer.",
      statuses,
    ),
    ...family(
      "registry_relay_dead_letters",
      "gauge",
      "Events in the endpoint's dead letters.",
      dead,
    ),
    ...family(
      "registry_relay_oldest_pending_age_ms",
      "gauge",
      "Age in milliseconds of the endpoint's oldest pending event (0 when none is pending).",
      oldest,
    ),
    ...family(
      "registry_relay_paused",
      "gauge",
      "1 while the endpoint's delivery is paused.",
      paused,
    ),
    ...family(
      "registry_relay_delivery_latency_ms",
      "histogram",
      "Milliseconds from ingest acceptance to the endpoint's successful answer.",
      latency,
    ),
    "",
  ].join("\n");
}
