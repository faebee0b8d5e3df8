// Per-endpoint delivery counters, shaped like distribution's `EndpointMetrics` (section 4 of the
// reference) so that dashboards built for expvar/Prometheus map one to one.

/** Go's `http.StatusText` table: the reason phrases distribution's `Statuses` keys use. */
const reasons: Readonly<Record<number, string>> = {
  100: "Continue",
  101: "Switching Protocols",
  102: "Processing",
  103: "Early Hints",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  207: "Multi-Status",
  208: "Already Reported",
  226: "IM Used",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  305: "Use Proxy",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Request Entity Too Large",
  414: "Request URI Too Long",
  415: "Unsupported Media Type",
  416: "Requested Range Not Satisfiable",
  417: "Expectation Failed",
  418: "I'm a teapot",
  421: "Misdirected Request",
  422: "Unprocessable Entity",
  423: "Locked",
  424: "Failed Dependency",
  425: "Too Early",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
  506: "Variant Also Negotiates",
  507: "Insufficient Storage",
  508: "Loop Detected",
  510: "Not Extended",
  511: "Network Authentication Required",
};

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
  /** HTTP attempts answered with a final 200–399. */
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

  /** An attempt was answered with a final 200–399 `status`. */
  success(status: number): void {
    this.successes++;
    this.count(status);
  }

  /** An attempt was answered with an unaccepted `status`. */
  failure(status: number): void {
    this.failures++;
    this.count(status);
  }

  /** An attempt got no status at all. */
  error(): void {
    this.errors++;
  }

  /** A copy of the counters at this moment. */
  snapshot(): EndpointMetricsSnapshot {
    const { pending, events, successes, failures, errors } = this;
    return { pending, events, successes, failures, errors, statuses: { ...this.statuses } };
  }

  toJSON(): EndpointMetricsSnapshot {
    return this.snapshot();
  }

  private count(status: number): void {
    const key = statusKey(status);
    this.statuses[key] = (this.statuses[key] ?? 0) + 1;
  }
}
