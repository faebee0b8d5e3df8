// One endpoint in detail, below the endpoints table: its delivery settings (retry strategy,
// threshold, backoff, limits, filters), the ingest-to-receipt latency read from its histogram
// (and drawn), its last hour per minute (drawn), and the queue of each partition. Updated in place
// on every refresh, like the table.

import type { EndpointFormat } from "registry-relay";
import { outputFormats } from "registry-relay/formats";
import type {
  ActivityCounts,
  EndpointConfigView,
  EndpointView,
  LatencyCounts,
  PartitionSnapshot,
} from "./api.ts";
import { BarChart, type ChartData, total } from "./charts.ts";
import { byId, h, setAttr, setText, syncRows } from "./dom.ts";
import {
  endpointRouting,
  formatCount,
  formatDue,
  formatDuration,
  formatInstant,
  formatStatus,
  readableError,
  statusTone,
} from "./format.ts";

/**
 * A latency quantile (`q` in 0..1) estimated from a cumulative histogram the way Prometheus'
 * `histogram_quantile` does: linear inside the bucket that holds it. `null` without observations,
 * `Infinity` when it lies past the last bound.
 *
 * @example
 * ```ts
 * import { latencyQuantile } from "./endpoint-detail.ts";
 * latencyQuantile({ boundsMs: [10, 100], buckets: [1, 3], sum: 120, count: 4 }, 0.5); // 55
 * ```
 */
export function latencyQuantile(
  latency: LatencyCounts & { boundsMs: readonly number[] },
  q: number,
): number | null {
  if (latency.count <= 0) return null;
  const rank = q * latency.count;
  let previousBound = 0;
  let previousCount = 0;
  for (const [index, bound] of latency.boundsMs.entries()) {
    const count = latency.buckets[index] ?? previousCount;
    if (count >= rank && count > previousCount) {
      return (
        previousBound + ((bound - previousBound) * (rank - previousCount)) / (count - previousCount)
      );
    }
    previousBound = bound;
    previousCount = count;
  }
  return Number.POSITIVE_INFINITY;
}

const plural = (n: number, word: string) => `${formatCount(n)} ${word}${n === 1 ? "" : "s"}`;

/**
 * The retry strategy in words.
 *
 * @example
 * ```ts
 * import { strategyLabel } from "./endpoint-detail.ts";
 * strategyLabel({ type: "breaker", threshold: 3, backoff: 4000 }); // "Breaker: after 3 failures, wait 4.0 s"
 * ```
 */
export function strategyLabel(strategy: EndpointConfigView["strategy"]): string {
  if (strategy.type === "exponential") {
    const { base, factor, max } = strategy;
    return `Exponential backoff: base ${formatDuration(base)}, factor ${formatDuration(factor)}, at most ${formatDuration(max)}`;
  }
  return `Breaker: after ${plural(strategy.threshold, "failure")}, wait ${formatDuration(strategy.backoff)}`;
}

/** What each output format sends (the tooltip of the endpoint's format). */
const formatNames: Record<string, string> = {
  distribution: "distribution's envelope",
  cloudevents: "CloudEvents 1.0, JSON event format (structured mode; a batch when maxBatch > 1)",
  cdevents: "CDEvents 0.5.1 artifact events in CloudEvents binary mode, one per POST",
};

/** The Content-Type of the endpoint's POSTs: its output format's, the one the relay sends by. */
const contentType = (config: EndpointConfigView, format: EndpointFormat): string =>
  outputFormats[format].contentType(config);

/** The settings shown, as label → value (and an optional tooltip). */
function settings(config: EndpointConfigView): [string, string, string?][] {
  const { ignore } = config;
  const ignored = [
    ignore.actions.length > 0 && `actions ${ignore.actions.join(", ")}`,
    ignore.mediatypes.length > 0 && `media types ${ignore.mediatypes.join(", ")}`,
  ].filter((part): part is string => typeof part === "string");
  const { format, match } = endpointRouting(config);
  return [
    ["Format", format, formatNames[format]],
    ["Match", match ?? "every event", match ?? undefined],
    ["Strategy", strategyLabel(config.strategy)],
    ["Threshold", plural(config.threshold, "failure")],
    ["Backoff", formatDuration(config.backoff)],
    ["Timeout", formatDuration(config.timeout)],
    ["Max attempts", config.maxAttempts === null ? "unlimited" : formatCount(config.maxAttempts)],
    ["Max age", config.maxAge === null ? "unlimited" : formatDuration(config.maxAge)],
    ["Max batch", plural(config.maxBatch, "event")],
    ["Partitions", formatCount(config.partitions)],
    [
      "Sends as",
      format === "distribution"
        ? config.mediaType.replace(/^.*\.events\./, "events ").replace(/\+json$/, "")
        : contentType(config, format),
      contentType(config, format),
    ],
    ["Headers", config.headers.length > 0 ? config.headers.join(", ") : "none"],
    ["Signing", config.signed ? "Standard Webhooks" : "off"],
    ["Ignores", ignored.length > 0 ? ignored.join(" · ") : "nothing"],
  ];
}

/** A latency quantile in words (`> 60 s` past the last bound). */
function quantileText(latency: EndpointView["latency"], q: number): string {
  const value = latencyQuantile(latency, q);
  const last = latency.boundsMs.at(-1) ?? 0;
  return value === Number.POSITIVE_INFINITY ? `> ${formatDuration(last)}` : formatDuration(value);
}

/** The latency figures shown, as label → value. */
function latencyFacts(latency: EndpointView["latency"]): [string, string][] {
  if (latency.count === 0) return [["Delivered", "nothing yet"]];
  const at = (q: number) => quantileText(latency, q);
  return [
    ["Delivered", plural(latency.count, "event")],
    ["Median", at(0.5)],
    ["90th percentile", at(0.9)],
    ["99th percentile", at(0.99)],
    ["Mean", formatDuration(latency.sum / latency.count)],
  ];
}

/** The classes of the partition table's cells (numbers align right). */
const partitionColumns = ["", "", "num", "num", "num", "", "num"];

/** Keeps a `<dl>` of label → value pairs in step, one `<div>` (dt, dd) per pair. */
function syncFacts(list: HTMLElement, facts: readonly [string, string, string?][]): void {
  syncRows(
    list,
    facts,
    ([label]) => label,
    ([label]) => h("div", { class: "fact" }, h("dt", {}, label), h("dd", {})),
    (row, [, value, title]) => {
      const dd = row.lastElementChild as HTMLElement;
      setText(dd, value);
      setAttr(dd, "title", title ?? value);
    },
  );
}

/** The latency histogram as a chart: events per bucket (not cumulative), every bucket shown. */
function latencyChart(latency: EndpointView["latency"]): ChartData {
  const bounds = latency.boundsMs;
  const last = formatDuration(bounds.at(-1) ?? 0);
  const slots = [...bounds.map((bound) => `≤ ${formatDuration(bound)}`), `> ${last}`];
  // Short ticks (`5 ms`, `10`, … `1s`, `2.5s`, `>60s`) fit under narrow bars; the slots say it all.
  const ticks = [...bounds, bounds.at(-1) ?? 0].map((bound, index) =>
    index === bounds.length
      ? `>${bound / 1000}s`
      : bound < 1000
        ? `${bound}${index === 0 ? " ms" : ""}`
        : `${bound / 1000}s`,
  );
  const cumulative = [...latency.buckets.slice(0, bounds.length), latency.count];
  const values = ticks.map((_, i) => (cumulative[i] ?? 0) - (i > 0 ? (cumulative[i - 1] ?? 0) : 0));
  const peak = values.indexOf(Math.max(...values));
  const summary =
    latency.count === 0
      ? "Latency histogram: nothing delivered yet"
      : `Latency histogram of ${plural(latency.count, "delivered event")}: the most took ${slots[peak]} (${formatCount(values[peak])}); 99th percentile ${quantileText(latency, 0.99)}`;
  const series = [{ name: "Delivered", tone: "accent" as const, values, summary }];
  return { slots, ticks, slotHeader: "Took", series };
}

/**
 * The last hour as a chart, one slot per minute. The slots are placed by the relay's clock (its
 * `now` and `start`), never the browser's, so a skewed laptop clock cannot shift them.
 */
function activityChart(activity: ActivityCounts): ChartData {
  const newest = Math.floor((activity.now - activity.start) / activity.minuteMs);
  const ages = activity.delivered.map((_, index) => newest - index);
  const slots = ages.map((age) => (age === 0 ? "this minute" : `${age} min ago`));
  const ticks = ages.map((age, index) =>
    index === 0 ? "1 h ago" : age === 0 ? "now" : age % 15 === 0 ? `${age} min ago` : "",
  );
  const series = (
    [
      ["Delivered", "ok", activity.delivered, "event"],
      ["Failed attempts", "warn", activity.failed, "attempt"],
      ["Dead-lettered", "bad", activity.deadLettered, "event"],
    ] as const
  ).map(([name, tone, values, unit]) => {
    const most = Math.max(...values);
    const summary =
      most === 0
        ? `${name}: no ${unit}s in the last hour`
        : `${name} per minute in the last hour: ${plural(total(values), unit)}, at most ${formatCount(most)} in a minute (${slots[values.indexOf(most)]})`;
    return { name, tone, values, summary };
  });
  return { slots, ticks, slotHeader: "Minute", series, skipEmpty: true };
}

/**
 * The endpoint detail panel of the page shell.
 *
 * @example
 * ```ts
 * import { EndpointDetail } from "./endpoint-detail.ts";
 * const detail = new EndpointDetail(() => table.render(endpoints, fetchedAt, Date.now()));
 * detail.show("audit-log");
 * detail.render(endpoints, fetchedAt, Date.now());
 * ```
 */
export class EndpointDetail {
  readonly #panel = byId("endpoint-detail", HTMLElement);
  readonly #title = byId("detail-title", HTMLHeadingElement);
  readonly #url = byId("detail-url", HTMLSpanElement);
  readonly #settings = byId("detail-settings", HTMLElement);
  readonly #latency = byId("detail-latency", HTMLElement);
  readonly #histogram = new BarChart(
    byId("detail-histogram", HTMLDivElement),
    "Delivered events by ingest-to-receipt latency",
  );
  readonly #activity = new BarChart(
    byId("detail-activity", HTMLDivElement),
    "Minutes of the last hour with deliveries or failures",
  );
  readonly #partitions = byId("detail-partitions", HTMLTableSectionElement);
  readonly #onChange: () => void;
  #name: string | null = null;

  /** `onChange` runs when the shown endpoint changes (the table marks the selected row). */
  constructor(onChange: () => void) {
    this.#onChange = onChange;
    byId("detail-close", HTMLButtonElement).addEventListener("click", () => this.show(null));
  }

  /** The endpoint shown, if any. */
  get name(): string | null {
    return this.#name;
  }

  /** Shows an endpoint (the same one again, or null, closes the panel). */
  show(name: string | null): void {
    this.#name = name === this.#name ? null : name;
    this.#panel.hidden = this.#name === null;
    this.#onChange();
    if (this.#name !== null) this.#panel.scrollIntoView({ block: "nearest" });
  }

  /** Renders the shown endpoint from the latest list; hides the panel when it is gone. */
  render(endpoints: readonly EndpointView[], fetchedAt: number, now: number): void {
    const endpoint = endpoints.find((candidate) => candidate.name === this.#name);
    this.#panel.hidden = endpoint === undefined;
    if (!endpoint) return;
    setText(this.#title, endpoint.name);
    setText(this.#url, endpoint.config.url);
    setAttr(this.#url, "title", endpoint.config.url);
    syncFacts(this.#settings, settings(endpoint.config));
    syncFacts(this.#latency, latencyFacts(endpoint.latency));
    this.#histogram.render(latencyChart(endpoint.latency));
    this.#activity.render(activityChart(endpoint.activity));
    const elapsed = Math.max(0, now - fetchedAt);
    syncRows(
      this.#partitions,
      endpoint.partitions,
      (part) => String(part.partition),
      () => h("tr", {}, ...partitionColumns.map((cls) => h("td", { class: cls }))),
      (row, part) => this.#updatePartition(row, part, elapsed, now),
    );
  }

  /** Hides the panel (disconnected). */
  clear(): void {
    this.#name = null;
    this.#panel.hidden = true;
    this.#onChange();
  }

  #updatePartition(
    row: HTMLTableRowElement,
    part: PartitionSnapshot,
    elapsed: number,
    now: number,
  ): void {
    const cells = Array.from(row.cells);
    const text = (index: number, value: string, title?: string | null) => {
      const cell = cells[index];
      if (!cell) return;
      setText(cell, value);
      setAttr(cell, "title", title ?? null);
    };
    text(0, `#${part.partition}`);
    text(1, part.paused ? "Paused" : part.depth > 0 && part.lastError ? "Retrying" : "Active");
    text(2, formatCount(part.depth));
    const age = part.oldestPendingAgeMs === null ? null : part.oldestPendingAgeMs + elapsed;
    text(3, formatDuration(age));
    text(4, formatCount(part.deadLetters));
    const last =
      part.lastStatus === null && part.lastError ? "No answer" : formatStatus(part.lastStatus);
    text(5, last, part.lastError ? readableError(part.lastError) : null);
    text(
      6,
      part.depth > 0 ? formatDue(part.nextAttemptAt, now) : "—",
      part.nextAttemptAt ? formatInstant(part.nextAttemptAt) : null,
    );
    const failing = statusTone(part.lastStatus) === "bad" || (!part.lastStatus && !!part.lastError);
    cells[5]?.classList.toggle("bad-text", failing);
    cells[1]?.classList.toggle("warn-text", part.paused);
  }
}
