// The Worker's configuration: its string bindings validated into a RelayConfig. Everything is
// checked at the first request and a bad value fails loudly with the key it came from; values
// themselves are never echoed, since RELAY_ENDPOINTS carries header values and signing secrets.
// The queue namespace binding is typed next to the queue (worker/queue/bindings.ts), so that this
// file, which the queue reads its config from, imports nothing of the queue.
import { ConfigError, type EndpointConfig, parseEndpointConfig } from "../src/endpoint/config.ts";
import { defaultMaxBodyBytes } from "../src/hono/index.ts";

/** The relay's vars and secrets (all strings): what {@link loadRelayConfig} reads. */
export interface RelayVars {
  /** JSON array of endpoint configs in the core's `parseEndpointConfig` format. */
  RELAY_ENDPOINTS?: string;
  /** Comma-separated bearer tokens accepted on `POST /v1/events` (secret). */
  RELAY_INGEST_TOKENS?: string;
  /** Bearer token of the admin API and `/metrics` (secret). */
  RELAY_ADMIN_TOKEN?: string;
  /** `true` accepts ingest without a token; refused while `RELAY_INGEST_TOKENS` lists one. */
  RELAY_ALLOW_ANONYMOUS?: string;
  /** Largest ingest body in bytes (default 1 MiB, at most 16 MiB). */
  RELAY_MAX_BODY_BYTES?: string;
  /** Comma-separated exact origins allowed to call the admin API from a browser. */
  RELAY_CORS_ORIGINS?: string;
  /**
   * Comma-separated host patterns every endpoint URL must match (`hooks.example.com`,
   * `*.example.com`, `10.0.0.5:8080`); unset: any host.
   */
  RELAY_ALLOWED_HOSTS?: string;
  /**
   * The secret of the GitHub webhook that posts to `/v1/events/github` (secret): its
   * `X-Hub-Signature-256` is then required there, in place of an ingest token.
   */
  RELAY_GITHUB_WEBHOOK_SECRET?: string;
}

/** An endpoint as the relay runs it: the core's config with `name` and `url` required. */
export type RelayEndpoint = EndpointConfig & { name: string; url: string };

/** The validated relay configuration, parsed once per isolate and shared by every request. */
export interface RelayConfig {
  endpoints: RelayEndpoint[];
  ingestTokens: string[];
  adminToken?: string;
  allowAnonymous: boolean;
  maxBodyBytes: number;
  corsOrigins: string[];
  /** `RELAY_ALLOWED_HOSTS`, normalised (`[]`: any host); see {@link isAllowedTarget}. */
  allowedHosts: HostPattern[];
  /** `RELAY_GITHUB_WEBHOOK_SECRET`, when set. */
  githubSecret?: string;
}

/**
 * A binding is missing or invalid. `key` names it down to the field, e.g.
 * `RELAY_ENDPOINTS[1].ignore.actions[0]`; the message never contains the value.
 */
export class RelayConfigError extends Error {
  override name = "RelayConfigError";
  /** The binding (and field inside it) that is wrong. */
  readonly key: string;
  /** What is wrong with it. */
  readonly reason: string;

  constructor(key: string, reason: string) {
    super(`${key}: ${reason}`);
    this.key = key;
    this.reason = reason;
  }
}

const list = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

function parseEndpoints(value: unknown, allowedHosts: HostPattern[]): RelayEndpoint[] {
  const key = "RELAY_ENDPOINTS";
  if (value === undefined || value === "") {
    throw new RelayConfigError(key, "is not set; it must be a JSON array of endpoint configs");
  }
  let input: unknown = value;
  if (typeof value === "string") {
    try {
      input = JSON.parse(value);
    } catch (error) {
      // JSON.parse messages quote the input, which may hold secrets: keep only the position.
      const position = /position (\d+)/.exec(String((error as Error).message))?.[1];
      const where = position === undefined ? "" : ` (at character ${position})`;
      throw new RelayConfigError(key, `is not valid JSON${where}`);
    }
  }
  if (!Array.isArray(input)) {
    throw new RelayConfigError(key, "must be a JSON array of endpoint configs");
  }
  const endpoints: RelayEndpoint[] = [];
  const seen = new Map<string, number>();
  input.forEach((item, index) => {
    let endpoint: EndpointConfig;
    try {
      endpoint = parseEndpointConfig(item);
    } catch (error) {
      if (error instanceof ConfigError) {
        const field =
          error.key === "" ? "" : error.key.startsWith("[") ? error.key : `.${error.key}`;
        throw new RelayConfigError(`${key}[${index}]${field}`, reasonOf(error));
      }
      throw error;
    }
    const relayEndpoint = checkRelayRules(endpoint, `${key}[${index}]`, allowedHosts);
    const first = seen.get(relayEndpoint.name);
    if (first !== undefined) {
      throw new RelayConfigError(
        `${key}[${index}].name`,
        `duplicates the name of ${key}[${first}]; endpoint names must be unique`,
      );
    }
    seen.set(relayEndpoint.name, index);
    endpoints.push(relayEndpoint);
  });
  return endpoints;
}

/** The reason of a core ConfigError, without the key (the relay prefixes its own). */
function reasonOf(error: ConfigError): string {
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : "";
  return `${error.reason}${more}`;
}

/**
 * Relay-only rules on top of the core's (which also bound `partitions` to 100): a queue needs a
 * name and a destination, and the destination must be one the operator allows.
 */
function checkRelayRules(
  endpoint: EndpointConfig,
  key: string,
  allowedHosts: HostPattern[],
): RelayEndpoint {
  if (typeof endpoint.name !== "string" || endpoint.name.trim() === "") {
    throw new RelayConfigError(`${key}.name`, "is required: it names the endpoint's queue");
  }
  if (endpoint.url === undefined) {
    throw new RelayConfigError(`${key}.url`, "is required: where should events be delivered?");
  }
  if (!isAllowedTarget(endpoint.url, allowedHosts)) {
    throw new RelayConfigError(
      `${key}.url`,
      "its host is not in RELAY_ALLOWED_HOSTS; add a matching pattern there or fix the URL",
    );
  }
  return endpoint as RelayEndpoint;
}

/**
 * One `RELAY_ALLOWED_HOSTS` entry: `host` normalised as the URL parser does (lower case,
 * punycode, canonical IPv4, IPv6 in brackets; no trailing dot), `wildcard` for `*.host` (any
 * subdomain, not `host` itself), `port` only when the entry names one (else any port).
 */
interface HostPattern {
  host: string;
  wildcard: boolean;
  port?: number;
}

const hostPatternShape = /^(\*\.)?(\[[0-9A-Fa-f:.]+\]|[\p{L}\p{N}._-]+)(?::(\d{1,5}))?$/u;
const isIpAddress = (host: string) => host.startsWith("[") || /^[\d.]+$/.test(host);
const withoutTrailingDot = (host: string) => host.replace(/\.$/, "");

function parseAllowedHosts(value: string | undefined): HostPattern[] {
  return list(value).map((entry, index) => {
    const key = `RELAY_ALLOWED_HOSTS[${index}]`;
    if (entry === "*") {
      throw new RelayConfigError(key, "* would allow every host; leave RELAY_ALLOWED_HOSTS unset");
    }
    const [, star, name = "", portText] = hostPatternShape.exec(entry) ?? [];
    let host = "";
    try {
      host = name && withoutTrailingDot(new URL(`http://${name}/`).hostname);
    } catch {
      // not a host: reported just below
    }
    const port = portText === undefined ? undefined : Number(portText);
    if (!host || (port !== undefined && (port < 1 || port > 65535))) {
      throw new RelayConfigError(
        key,
        "must be a host (hooks.example.com), *.domain (*.example.com) or host:port (10.0.0.5:8080)",
      );
    }
    if (star && isIpAddress(host)) {
      throw new RelayConfigError(key, "*. applies to DNS names, not IP addresses");
    }
    return { host, wildcard: star !== undefined, ...(port !== undefined && { port }) };
  });
}

/**
 * Whether the relay may post to `url` under `allowedHosts` (`[]`: any host). A port-less
 * pattern matches any port; otherwise the URL's effective port (80/443 by default) must match.
 */
function isAllowedTarget(url: string, allowedHosts: readonly HostPattern[]): boolean {
  if (allowedHosts.length === 0) return true;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return false;
  }
  const host = withoutTrailingDot(target.hostname);
  const port = Number(target.port || (target.protocol === "https:" ? 443 : 80));
  return allowedHosts.some(
    (pattern) =>
      (pattern.port === undefined || pattern.port === port) &&
      (pattern.wildcard
        ? host.endsWith(`.${pattern.host}`) && !isIpAddress(host)
        : host === pattern.host),
  );
}

function parseAllowAnonymous(value: string | undefined): boolean {
  const text = (value ?? "").trim().toLowerCase();
  if (text === "" || text === "false" || text === "0") return false;
  if (text === "true" || text === "1") return true;
  throw new RelayConfigError("RELAY_ALLOW_ANONYMOUS", "must be true or false");
}

/**
 * The largest RELAY_MAX_BODY_BYTES: the body goes to each endpoint's Durable Object over RPC
 * (32 MiB per call) and its events are stored one SQLite row each (2 MiB per row); 16 MiB keeps
 * half the RPC limit as headroom for the parsed form.
 */
const maxBodyBytesLimit = 16 * 1024 * 1024;

function parseMaxBodyBytes(value: string | undefined): number {
  const text = (value ?? "").trim();
  if (text === "") return defaultMaxBodyBytes;
  const bytes = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(bytes) || bytes < 1) {
    throw new RelayConfigError("RELAY_MAX_BODY_BYTES", "must be a positive integer (bytes)");
  }
  if (bytes > maxBodyBytesLimit) {
    throw new RelayConfigError(
      "RELAY_MAX_BODY_BYTES",
      `must be at most ${maxBodyBytesLimit} (16 MiB): bodies go to Durable Objects over RPC (32 MiB per call)`,
    );
  }
  return bytes;
}

/** Ingest tokens shorter than this draw a warning (not an error: dev setups use short ones). */
const minTokenLength = 16;

function parseCorsOrigins(value: string | undefined): string[] {
  return list(value).map((origin, index) => {
    const key = `RELAY_CORS_ORIGINS[${index}]`;
    if (origin === "*")
      throw new RelayConfigError(key, "wildcards are not allowed; list exact origins");
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new RelayConfigError(key, "must be an origin such as https://ops.example.com");
    }
    if (parsed.origin !== origin) {
      throw new RelayConfigError(
        key,
        "must be an origin (scheme://host[:port], no path or trailing slash) such as https://ops.example.com",
      );
    }
    return origin;
  });
}

/**
 * The admin token, if set. It must be an RFC 6750 token (what Hono's bearerAuth accepts from a
 * client): any other character could never be presented, and the admin API would stay locked.
 */
function parseAdminToken(value: string | undefined): string | undefined {
  const token = value?.trim();
  if (!token) return undefined;
  if (!/^[A-Za-z0-9._~+/-]+=*$/.test(token)) {
    throw new RelayConfigError(
      "RELAY_ADMIN_TOKEN",
      "must be a bearer token of letters, digits and -._~+/ (e.g. openssl rand -hex 32)",
    );
  }
  return token;
}

/**
 * The GitHub webhook secret, exactly as GitHub signs with it. Blank or with surrounding
 * whitespace it is refused: a blank one would switch the signature check off unnoticed, and a
 * padded one would never verify.
 */
function parseGithubSecret(value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (value.trim() === "" || value.trim() !== value) {
    throw new RelayConfigError(
      "RELAY_GITHUB_WEBHOOK_SECRET",
      "must not be blank or start or end with whitespace (GitHub signs with the exact secret)",
    );
  }
  return value;
}

function parseRelayConfig(env: RelayVars): RelayConfig {
  const adminToken = parseAdminToken(env.RELAY_ADMIN_TOKEN);
  const allowedHosts = parseAllowedHosts(env.RELAY_ALLOWED_HOSTS);
  const ingestTokens = list(env.RELAY_INGEST_TOKENS);
  const allowAnonymous = parseAllowAnonymous(env.RELAY_ALLOW_ANONYMOUS);
  // Both set is ambiguous (is the token optional?) and used to mean "anyone may post": refuse.
  if (allowAnonymous && ingestTokens.length > 0) {
    throw new RelayConfigError(
      "RELAY_ALLOW_ANONYMOUS",
      "cannot be true while RELAY_INGEST_TOKENS is set; anonymous ingest applies only when no token is configured, so unset one of them",
    );
  }
  const githubSecret = parseGithubSecret(env.RELAY_GITHUB_WEBHOOK_SECRET);
  return {
    endpoints: parseEndpoints(env.RELAY_ENDPOINTS as unknown, allowedHosts),
    ingestTokens,
    ...(adminToken ? { adminToken } : {}),
    allowAnonymous,
    maxBodyBytes: parseMaxBodyBytes(env.RELAY_MAX_BODY_BYTES),
    corsOrigins: parseCorsOrigins(env.RELAY_CORS_ORIGINS),
    allowedHosts,
    ...(githubSecret ? { githubSecret } : {}),
  };
}

/** Advice on a valid config, by key only (values are secrets). */
function warningsOf(config: RelayConfig): string[] {
  return config.ingestTokens.flatMap((token, index) =>
    token.length < minTokenLength
      ? [
          `RELAY_INGEST_TOKENS[${index}]: is shorter than ${minTokenLength} characters; use a long random token (e.g. openssl rand -hex 32)`,
        ]
      : [],
  );
}

const configKeys = [
  "RELAY_ENDPOINTS",
  "RELAY_INGEST_TOKENS",
  "RELAY_ADMIN_TOKEN",
  "RELAY_ALLOW_ANONYMOUS",
  "RELAY_MAX_BODY_BYTES",
  "RELAY_CORS_ORIGINS",
  "RELAY_ALLOWED_HOSTS",
  "RELAY_GITHUB_WEBHOOK_SECRET",
] as const;

let memo: { fingerprint: string; outcome: RelayConfig | RelayConfigError } | undefined;

/**
 * Validates the bindings into a {@link RelayConfig}, once per isolate: the result (or the error)
 * is kept for as long as the raw binding strings stay the same, so the app's config middleware
 * and the queue can call it on every request or delivery pass. Throws {@link RelayConfigError}
 * naming the first bad key; logs warnings (short ingest tokens) once per distinct config.
 */
export function loadRelayConfig(env: RelayVars): RelayConfig {
  const fingerprint = JSON.stringify(configKeys.map((key) => env[key] ?? null));
  if (memo?.fingerprint !== fingerprint) {
    let outcome: RelayConfig | RelayConfigError;
    try {
      outcome = parseRelayConfig(env);
      for (const warning of warningsOf(outcome)) console.warn(`config: ${warning}`);
    } catch (error) {
      if (!(error instanceof RelayConfigError)) throw error;
      outcome = error;
    }
    memo = { fingerprint, outcome };
  }
  if (memo.outcome instanceof RelayConfigError) throw memo.outcome;
  return memo.outcome;
}
