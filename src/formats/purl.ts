// What the CloudEvents and CDEvents encoders share: the registry an event came from (its host),
// package URLs for OCI artifacts, and percent-encoding that never throws (no encodeURIComponent,
// which throws on a lone surrogate). Web-standard globals only.
import type { Event } from "../event/schema.ts";

/**
 * A host as a URI authority may carry it (RFC 3986 `host [":" port]`): a DNS name or IPv4
 * address, or a bracketed IPv6 literal, then an optional port. Anything else (spaces, userinfo,
 * a path) is not used, so every source and purl built from it stays a valid URI-reference.
 */
const authority = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::[0-9]{1,5})?$/;

const hostOf = (url: string | undefined): string | undefined => {
  if (url === undefined) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
};

/**
 * The registry's `host[:port]` as clients reach it, or `undefined`: the first valid one of
 * `request.host` (the Host header: every distribution event has it, deletes too), the host of
 * `target.url`, and `source.addr` (the registry node's `hostname:port`).
 * For example `registry.example.com:5000`.
 */
export function registryHost(event: Event): string | undefined {
  for (const candidate of [event.request?.host, hostOf(event.target.url), event.source?.addr]) {
    // The URL parser settles what the pattern cannot: an IPv6 literal such as `[1]` is not one.
    if (
      typeof candidate === "string" &&
      authority.test(candidate) &&
      hostOf(`http://${candidate}`)
    ) {
      return candidate;
    }
  }
  return undefined;
}

const utf8 = /* @__PURE__ */ new TextEncoder();
const hexDigits = "0123456789ABCDEF";
/** RFC 3986 unreserved: never encoded. */
const unreserved = (byte: number) =>
  (byte >= 0x30 && byte <= 0x39) ||
  (byte >= 0x41 && byte <= 0x5a) ||
  (byte >= 0x61 && byte <= 0x7a) ||
  byte === 0x2d ||
  byte === 0x2e ||
  byte === 0x5f ||
  byte === 0x7e;

/**
 * `text` as UTF-8 with every byte `keep` refuses written `%XY` (upper-case hex). A lone surrogate
 * becomes U+FFFD first (as `TextEncoder` does) instead of throwing.
 * `percentEncode("sha256:ab", (byte) => byte !== 0x3a)` is `"sha256%3Aab"`.
 */
export function percentEncode(text: string, keep: (byte: number) => boolean): string {
  let out = "";
  for (const byte of utf8.encode(text)) {
    out += keep(byte)
      ? String.fromCharCode(byte)
      : `%${hexDigits[byte >> 4]}${hexDigits[byte & 15]}`;
  }
  return out;
}

/** A purl component (name, version): unreserved characters stay, the rest is encoded. */
const component = (text: string) => percentEncode(text, unreserved);
/** A qualifier value: as a component, but `/` stays (the oci type's `repository_url` examples). */
const qualifier = (text: string) =>
  percentEncode(text, (byte) => byte === 0x2f || unreserved(byte));

/** What a package URL of an OCI artifact is made of. */
export interface OciPurlParts {
  /** The repository, e.g. `team-a/sub/app`. */
  repository: string;
  /** The artifact's digest, e.g. `sha256:…`: the purl's version. */
  digest: string;
  /** A tag it had at the time (the `tag` qualifier). */
  tag?: string | undefined;
  /** The registry's `host[:port]`: `repository_url` is `<host>/<repository>`. */
  host?: string | undefined;
}

/**
 * The package URL (purl type `oci`) of an artifact in a registry:
 * `pkg:oci/<name>@<digest>?repository_url=<host>/<repository>&tag=<tag>`.
 *
 * - `name` is the last segment of the repository, lowercased (the oci type's name is case
 *   insensitive and lowercase), percent-encoded; the oci type has no namespace.
 * - The version is the digest, percent-encoded: its `:` is `%3A`, as in the oci type's examples.
 * - Qualifiers in canonical (sorted) order, empty ones left out: `repository_url` (only with a
 *   host; the repository path keeps its case) and `tag`. Their values are percent-encoded except
 *   `/`, so a port's `:` is `%3A` too.
 * - Unreserved characters (`A-Z a-z 0-9 - . _ ~`) are never encoded; everything else is, as UTF-8.
 *
 * @example
 * ```ts
 * import { ociPurl } from "registry-relay/formats";
 * ociPurl({ repository: "library/debian", digest: "sha256:244f", host: "docker.io", tag: "latest" });
 * // "pkg:oci/debian@sha256%3A244f?repository_url=docker.io/library/debian&tag=latest"
 * ```
 */
export function ociPurl(parts: OciPurlParts): string {
  const { repository, digest, tag, host } = parts;
  const segments = repository.split("/").filter((segment) => segment !== "");
  const name = (segments.at(-1) ?? repository).toLowerCase();
  const qualifiers: string[] = [];
  if (host) qualifiers.push(`repository_url=${qualifier(`${host}/${repository}`)}`);
  if (tag) qualifiers.push(`tag=${qualifier(tag)}`);
  const query = qualifiers.length > 0 ? `?${qualifiers.join("&")}` : "";
  return `pkg:oci/${component(name)}@${component(digest)}${query}`;
}
