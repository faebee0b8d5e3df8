// Pure formatting helpers: numbers, ages, HTTP statuses and event targets as people read them.
import { statusText } from "registry-relay";
import type { EndpointConfigView } from "./api.ts";

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/**
 * A count with thousands separators; `—` for null.
 *
 * @example
 * ```ts
 * import { formatCount } from "./format.ts";
 * formatCount(12345); // "12,345"
 * ```
 */
export function formatCount(value: number | null | undefined): string {
  return typeof value === "number" && Number.isFinite(value) ? integer.format(value) : "—";
}

/**
 * A duration in the two largest units that matter: `850 ms`, `4.2 s`, `3m 05s`, `2h 10m`,
 * `3d 4h`; `—` for null.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./format.ts";
 * formatDuration(185_000); // "3m 05s"
 * ```
 */
export function formatDuration(ms: number | null | undefined): string {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "—";
  const value = Math.max(0, ms);
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 10_000) return `${(value / 1000).toFixed(1)} s`;
  const seconds = Math.floor(value / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${String(minutes % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/**
 * When something is due, relative to now: `now`, `in 4.2 s`; `—` for null.
 *
 * @example
 * ```ts
 * import { formatDue } from "./format.ts";
 * formatDue(Date.now() + 3000, Date.now()); // "in 3.0 s"
 * ```
 */
export function formatDue(at: number | null | undefined, now: number): string {
  if (typeof at !== "number" || !Number.isFinite(at)) return "—";
  return at <= now ? "now" : `in ${formatDuration(at - now)}`;
}

/**
 * A timestamp (ms since the epoch) in ISO form without milliseconds, for tooltips.
 *
 * @example
 * ```ts
 * import { formatInstant } from "./format.ts";
 * formatInstant(0); // "1970-01-01 00:00:00Z"
 * ```
 */
export function formatInstant(at: number | null | undefined): string {
  if (typeof at !== "number" || !Number.isFinite(at)) return "";
  return new Date(at)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

/**
 * An HTTP status with its reason phrase (`400 Bad Request`); `—` for null.
 *
 * @example
 * ```ts
 * import { formatStatus } from "./format.ts";
 * formatStatus(503); // "503 Service Unavailable"
 * ```
 */
export function formatStatus(status: number | null | undefined): string {
  if (typeof status !== "number") return "—";
  const text = statusText(status);
  return text ? `${status} ${text}` : String(status);
}

/** The colour family of an HTTP status: `ok` (2xx/3xx), `bad` (4xx/5xx), `none`. */
export type StatusTone = "ok" | "bad" | "none";

/**
 * The colour family of an HTTP status.
 *
 * @example
 * ```ts
 * import { statusTone } from "./format.ts";
 * statusTone(204); // "ok"
 * ```
 */
export function statusTone(status: number | null | undefined): StatusTone {
  if (typeof status !== "number") return "none";
  return status >= 200 && status < 400 ? "ok" : "bad";
}

/**
 * A byte count in B/KB/MB (1024-based, as the size budget is).
 *
 * @example
 * ```ts
 * import { formatBytes } from "./format.ts";
 * formatBytes(2048); // "2.0 KB"
 * ```
 */
export function formatBytes(bytes: number | null | undefined): string {
  if (typeof bytes !== "number" || !Number.isFinite(bytes)) return "—";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * A long identifier cut in the middle (`sha256:29836e…d8d01b`), for cells; the full value goes
 * in the tooltip.
 *
 * @example
 * ```ts
 * import { middleTruncate } from "./format.ts";
 * middleTruncate("sha256:29836e8468e0d3d2ae6c49359858c1796abfea9dfbaf2b898057bd7fa0d8d01b", 20);
 * ```
 */
export function middleTruncate(value: string, max: number): string {
  if (value.length <= max) return value;
  const head = Math.ceil((max - 1) / 2);
  const tail = Math.floor((max - 1) / 2);
  return `${value.slice(0, head)}…${value.slice(value.length - tail)}`;
}

/**
 * A delivery error as operators want to read it: without the `httpSink{<url>}: ` prefix of the
 * core's errors (the URL is already on screen); `""` for null.
 *
 * @example
 * ```ts
 * import { readableError } from "./format.ts";
 * readableError("httpSink{http://h/ci}: response status 400 Bad Request unaccepted");
 * // "response status 400 Bad Request unaccepted"
 * ```
 */
export function readableError(error: string | null | undefined): string {
  return (error ?? "").replace(/^httpSink\{[^}]*\}:\s*/, "");
}

const mediaTypeNames: Record<string, string> = {
  "application/octet-stream": "blob",
  "application/vnd.oci.image.manifest.v1+json": "OCI manifest",
  "application/vnd.oci.image.index.v1+json": "OCI index",
  "application/vnd.docker.distribution.manifest.v2+json": "Docker manifest",
  "application/vnd.docker.distribution.manifest.list.v2+json": "Docker manifest list",
  "application/vnd.docker.distribution.manifest.v1+prettyjws": "Docker manifest v1",
  "application/vnd.docker.image.rootfs.diff.tar.gzip": "layer",
};

/**
 * A short name for the media types registries use; others are shown as they are.
 *
 * @example
 * ```ts
 * import { mediaTypeName } from "./format.ts";
 * mediaTypeName("application/vnd.oci.image.index.v1+json"); // "OCI index"
 * ```
 */
export function mediaTypeName(mediaType: string): string {
  return mediaTypeNames[mediaType] ?? mediaType;
}

/**
 * A digest cut to its algorithm and first 12 hex digits, as image ids are usually shown
 * (`sha256:29836e8468e0…`); shorter digests are shown whole.
 *
 * @example
 * ```ts
 * import { shortDigest } from "./format.ts";
 * shortDigest("sha256:29836e8468e0d3d2ae6c49359858c1796abfea9dfbaf2b898057bd7fa0d8d01b");
 * // "sha256:29836e8468e0…"
 * ```
 */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(":");
  const hex = digest.slice(colon + 1);
  return hex.length > 12 ? `${digest.slice(0, colon + 1)}${hex.slice(0, 12)}…` : digest;
}

/** The identifying fields of an event's target, each absent when the event has none. */
export interface TargetFields {
  tag?: string | undefined;
  digest?: string | undefined;
  mediaType?: string | undefined;
}

/**
 * An event target in one short line, in image-reference order: `:tag@digest` (digest cut by
 * {@link shortDigest}), then the kind of content; `""` when the event names none of them.
 *
 * @example
 * ```ts
 * import { formatTarget } from "./format.ts";
 * formatTarget({ tag: "v1", digest: "sha256:3e0ad3a67c04", mediaType: "application/vnd.oci.image.manifest.v1+json" });
 * // ":v1@sha256:3e0ad3a67c04 · OCI manifest"
 * ```
 */
export function formatTarget(target: TargetFields): string {
  const reference = `${target.tag ? `:${target.tag}` : ""}${target.digest ? `@${shortDigest(target.digest)}` : ""}`;
  const kind = target.mediaType ? mediaTypeName(target.mediaType) : "";
  return [reference, kind].filter((part) => part !== "").join(" · ");
}

/**
 * A repository and its target's fields written out in full, one per line (a tooltip).
 *
 * @example
 * ```ts
 * import { describeTarget } from "./format.ts";
 * describeTarget("team/app", { tag: "v1" }); // "team/app\ntag: v1"
 * ```
 */
export function describeTarget(repository: string, target: TargetFields): string {
  return [
    repository,
    target.tag && `tag: ${target.tag}`,
    target.digest && `digest: ${target.digest}`,
    target.mediaType && `media type: ${target.mediaType}`,
  ]
    .filter((line) => typeof line === "string" && line !== "")
    .join("\n");
}

/**
 * What an endpoint gets: its output `format` (`distribution` from a relay that does not say) and
 * its `match` rules in words (`null`: every event).
 *
 * @example
 * ```ts
 * import { endpointRouting } from "./format.ts";
 * endpointRouting({ format: "cloudevents", match: { repositories: ["team/*"], actions: ["push"] } });
 * // { format: "cloudevents", match: "repositories team/* · actions push" }
 * ```
 */
export function endpointRouting(config: Partial<Pick<EndpointConfigView, "format" | "match">>): {
  format: EndpointConfigView["format"];
  match: string | null;
} {
  const rules = Object.entries(config.match ?? {}).flatMap(([key, list]) =>
    list?.length ? [`${key} ${list.join(", ")}`] : [],
  );
  return { format: config.format ?? "distribution", match: rules.join(" · ") || null };
}
