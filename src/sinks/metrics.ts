// Per-endpoint delivery counters, shaped like distribution's `EndpointMetrics` (section 4 of the
// reference) so that dashboards built for expvar/Prometheus map one to one.

/**
 * Go's `http.StatusText` table: the reason phrases distribution's `Statuses` keys use. Packed as
 * comma-separated phrases; a phrase that does not start with its code has the previous code + 1
 * (an empty one is a code without a phrase: shorter than the next one's number).
 */
const packedReasons =
  "100Continue,Switching Protocols,Processing,Early Hints,200OK,Created,Accepted," +
  "Non-Authoritative Information,No Content,Reset Content,Partial Content,Multi-Status," +
  "Already Reported,226IM Used,300Multiple Choices,Moved Permanently,Found,See Other," +
  "Not Modified,Use Proxy,,Temporary Redirect,Permanent Redirect,400Bad Request," +
  "Unauthorized,Payment Required,Forbidden,Not Found,Method Not Allowed,Not Acceptable," +
  "Proxy Authentication Required,Request Timeout,Conflict,Gone,Length Required," +
  "Precondition Failed,Request Entity Too Large,Request URI Too Long," +
  "Unsupported Media Type,Requested Range Not Satisfiable,Expectation Failed,I'm a teapot,,," +
  "Misdirected Request,Unprocessable Entity,Locked,Failed Dependency,Too Early," +
  "Upgrade Required,,Precondition Required,Too Many Requests,," +
  "Request Header Fields Too Large,451Unavailable For Legal Reasons," +
  "500Internal Server Error,Not Implemented,Bad Gateway,Service Unavailable," +
  "Gateway Timeout,HTTP Version Not Supported,Variant Also Negotiates,Insufficient Storage," +
  "Loop Detected,,Not Extended,Network Authentication Required";
let reasons: string[] | undefined;

/**
 * The reason phrase Go's `http.StatusText` gives a status code, `""` for an unknown code.
 *
 * @example
 * ```ts
 * import { statusText } from "registry-relay";
 * statusText(307); // "Temporary Redirect"
 * ```
 */
export function statusText(code: number): string {
  if (!reasons) {
    reasons = [];
    let last = 0;
    for (const entry of packedReasons.split(",")) {
      last = Number.parseInt(entry, 10) || last + 1;
      reasons[last] = entry.replace(/^\d+/, "");
    }
  }
  return reasons[code] ?? "";
}

/**
 * The `statuses` key of a code: `"<code> <reason>"` exactly as distribution formats it
 * (`fmt.Sprintf("%d %s", code, http.StatusText(code))`, so an unknown code keeps a trailing space).
 *
 * @example
 * ```ts
 * import { statusKey } from "registry-relay";
 * statusKey(200); // "200 OK"
 * ```
 */
export function statusKey(code: number): string {
  return `${code} ${statusText(code)}`;
}

/**
 * A plain copy of the counters, safe to serialise: it never carries a URL, header or secret.
 *
 * @example
 * ```ts
 * import type { EndpointMetricsSnapshot } from "registry-relay";
 * const idle = (m: EndpointMetricsSnapshot) => m.pending === 0;
 * ```
 */
export interface EndpointMetricsSnapshot {
  /** Events accepted by the queue and not yet handed off (delivered, dead-lettered or dropped). */
  pending: number;
  /** Events accepted by the queue (after the ignore filter). */
  events: number;
  /** HTTP attempts answered with a 2xx. */
  successes: number;
  /** HTTP attempts answered with any other status. */
  failures: number;
  /** HTTP attempts that got no status (refused, reset, timeout, TLS, too many redirects). */
  errors: number;
  /** Attempts per status, keyed `"200 OK"`, `"400 Bad Request"`... */
  statuses: Record<string, number>;
}

/**
 * Counters of one endpoint. The queue moves `pending`/`events` (per event); the HTTP sink moves
 * `successes`/`failures`/`errors`/`statuses` (per attempt, i.e. per POST, as upstream does: a
 * failing endpoint's `failures + errors` can exceed `events`).
 *
 * @example
 * ```ts
 * import { EndpointMetrics, HttpSink } from "registry-relay";
 * const metrics = new EndpointMetrics();
 * const sink = new HttpSink("https://hooks.example.com/registry", { metrics });
 * await sink.write(event);
 * metrics.snapshot(); // { pending: 0, events: 0, successes: 1, ..., statuses: { "200 OK": 1 } }
 * ```
 */
export class EndpointMetrics implements EndpointMetricsSnapshot {
  pending = 0;
  events = 0;
  successes = 0;
  failures = 0;
  errors = 0;
  statuses: Record<string, number> = {};

  /** `count` events were accepted by the queue. */
  ingress(count: number): void {
    this.events += count;
    this.pending += count;
  }

  /** `count` events left the queue (delivered, dead-lettered, failed or dropped). */
  egress(count: number): void {
    this.pending -= count;
  }

  /** An attempt was answered with a 2xx `status`. */
  success(status: number): void {
    this.successes++;
    this.#count(status);
  }

  /** An attempt was answered with an unaccepted `status`. */
  failure(status: number): void {
    this.failures++;
    this.#count(status);
  }

  /** An attempt got no status at all. */
  error(): void {
    this.errors++;
  }

  /** A copy of the counters at this moment. */
  snapshot(): EndpointMetricsSnapshot {
    return { ...this, statuses: { ...this.statuses } };
  }

  toJSON(): EndpointMetricsSnapshot {
    return this.snapshot();
  }

  #count(status: number): void {
    const key = statusKey(status);
    this.statuses[key] = (this.statuses[key] ?? 0) + 1;
  }
}
