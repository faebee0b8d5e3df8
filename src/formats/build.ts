// Building the Events a notification normalizes to: deterministic ids, the CloudEvents type of
// what distribution has no action for, image references (Harbor's resource_url, GHCR's
// package_url, Quay's docker_url) split into host and repository, and the assembly of each
// event in distribution's field order with its `origin`.

import { formatTimestamp, formatUuid } from "../event/ids.ts";
import type { ActorRecord, Event, RequestRecord, Target } from "../event/schema.ts";
import { checkEnvelope } from "../event/validate.ts";
import {
  FormatError,
  type InputFormat,
  isUnsupportedAction,
  type Normalized,
  type NotificationInput,
  type Origin,
} from "./model.ts";
import { isObject } from "./read.ts";

/**
 * The payload's text as a canonical JSON: object keys sorted, no spaces. A body re-serialized on
 * its way (other key order, other spacing) keeps its ids.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isObject(value)) {
    const members = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * What an event id derives from: the source's own event or delivery id when it has one, else the
 * payload's canonical JSON. Never the time of receipt.
 */
export const idKey = (sourceId: string | undefined, payload: unknown): string =>
  sourceId === undefined ? `body:${canonicalJson(payload)}` : `id:${sourceId}`;

const utf8 = new TextEncoder();

/**
 * The id of the `index`-th event of a payload: a UUID (version 8, RFC 9562's custom layout, as
 * its SHA-256 name-based example) from SHA-256 over `<format>\n<key>\n<index>`. The same payload
 * (or the same source id) always gives the same ids, so a resend counts as a duplicate.
 */
export async function eventId(format: InputFormat, key: string, index: number): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", utf8.encode(`${format}\n${key}\n${index}`));
  const bytes = new Uint8Array(digest, 0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80;
  return formatUuid(bytes);
}

/**
 * The CloudEvents type of an event distribution has no action for, when the source has no
 * CloudEvents type of its own: `dev.registryrelay.<format>.<native type>`, lowercase, every
 * character but `a-z0-9` as `_` (`build_failure`, `package_published`).
 */
export const unsupportedType = (format: InputFormat, native: string): string =>
  `dev.registryrelay.${format}.${native.toLowerCase().replace(/[^a-z0-9]/g, "_")}`;

/** The time of events whose source gives none: `receivedAt`, else now. */
export const receivedTime = (input: NotificationInput): string =>
  input.receivedAt === undefined ? formatTimestamp() : formatTimestamp(input.receivedAt);

/** An image reference split up: `[host/]repository[:tag][@digest]`. */
export interface Reference {
  host?: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/**
 * Splits an image reference (`harbor.dev/library/busybox@sha256:…`, `ghcr.io/o/n:latest`,
 * `quay.io/ns/repo`). The first component is a host, as Docker reads references, when it has a
 * `.` or a `:` or is `localhost`. A scheme, if any, is dropped. Undefined without a repository.
 */
export function parseReference(text: string | undefined): Reference | undefined {
  if (text === undefined) return undefined;
  let rest = text.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const reference: Reference = { repository: "" };
  const at = rest.indexOf("@");
  if (at >= 0) {
    if (at + 1 < rest.length) reference.digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    if (colon + 1 < rest.length) reference.tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf("/");
  const first = rest.slice(0, slash);
  if (slash > 0 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    reference.host = first;
    rest = rest.slice(slash + 1);
  }
  reference.repository = rest.replace(/\/+$/, "");
  return reference.repository === "" ? undefined : reference;
}

/**
 * A tag as the source gives it, or undefined when it is a digest: a tag never holds a `:`, and
 * Harbor puts the digest in `tag` for what was pushed or pulled by digest.
 */
export const tagOnly = (tag: string | undefined): string | undefined =>
  tag?.includes(":") ? undefined : tag;

/** `value` without its undefined members (key order kept), or undefined when none is left. */
function defined<T extends object>(value: T): T | undefined {
  const out: Record<string, unknown> = {};
  let any = false;
  for (const [key, member] of Object.entries(value)) {
    if (member === undefined) continue;
    out[key] = member;
    any = true;
  }
  return any ? (out as T) : undefined;
}

/** The fields a normalizer sets on a target; built in distribution's field order. */
export interface TargetFields {
  mediaType?: string | undefined;
  size?: number | undefined;
  digest?: string | undefined;
  length?: number | undefined;
  repository: string;
  url?: string | undefined;
  tag?: string | undefined;
}

/** The fields a normalizer sets on a request record. */
export interface RequestFields {
  id?: string | undefined;
  addr?: string | undefined;
  host?: string | undefined;
  method?: string | undefined;
  useragent?: string | undefined;
}

/** One event before its id: `supported` sends it to `events`, else to `unsupported`. */
export interface Draft {
  supported: boolean;
  action: string;
  timestamp: string;
  target: TargetFields;
  request?: RequestFields;
  /** The actor's name; no actor record without one. */
  actor?: string | undefined;
  origin: Origin;
}

/**
 * The Events of a payload's drafts, in order, with ids from `key` and each one's position among
 * all of them.
 */
export async function finish(
  format: InputFormat,
  key: string,
  drafts: Draft[],
): Promise<Normalized> {
  const ids = await Promise.all(drafts.map((_, index) => eventId(format, key, index)));
  const normalized: Normalized = { events: [], unsupported: [] };
  drafts.forEach((draft, index) => {
    const { mediaType, size, digest, length, repository, url, tag } = draft.target;
    const target = defined({ mediaType, size, digest, length, repository, url, tag }) as Target;
    const { id, addr, host, method, useragent } = draft.request ?? {};
    const request = defined({ id, addr, host, method, useragent }) as RequestRecord | undefined;
    const actor: ActorRecord | undefined = draft.actor ? { name: draft.actor } : undefined;
    // A source type without a dot (a zot `Ce-Type: push`) must not pass for distribution's.
    const action =
      draft.supported || isUnsupportedAction(draft.action)
        ? draft.action
        : unsupportedType(format, draft.action);
    const event: Record<string, unknown> = {
      id: ids[index],
      timestamp: draft.timestamp,
      action,
      target,
    };
    if (request) event.request = request;
    if (actor) event.actor = actor;
    event.origin = { ...draft.origin };
    (draft.supported ? normalized.events : normalized.unsupported).push(event as Event);
  });
  // What the core accepts from a registry it accepts from an adapter too: the same limits (a
  // 2 KB repository name cannot be a queue's key), or a FormatError that says so (413 if size).
  const issues: { path: string; message: string }[] = [];
  checkEnvelope({ events: [...normalized.events, ...normalized.unsupported] }, issues);
  if (issues.length > 0) throw new FormatError(format, issues);
  return normalized;
}
