// What each key of an endpoint's configuration accepts. Keep the JSDoc of ConfigKeys (config.ts)
// and the README in step with the bounds.
import {
  EventActionDelete,
  EventActionMount,
  EventActionPull,
  EventActionPush,
  EventsMediaType,
  EventsMediaTypeV2,
} from "../event/constants.ts";
import { ENDPOINT_FORMATS } from "../event/output.ts";
import { endpointDefaults as defaults } from "../sinks/defaults.ts";
import { token } from "../sinks/http-request.ts";
import { secretBytes } from "../webhooks/hmac.ts";
import {
  duration,
  formatMs,
  integer,
  isMapping,
  isStringList,
  listOf,
  mappingMessage,
  type Rule,
  strictObject,
  textWhere,
  valueWhere,
} from "./rules.ts";

const minute = 60_000;
const hour = 60 * minute;
const theDefault = (value: string | number) => `the default, ${value}`;

// Bounds: a value past them is a unit or typing mistake that would do harm, so it is refused.
// A hanging receiver holds the endpoint's FIFO queue for the whole timeout; 5 min is far above
// any sane webhook. Sub-ms values are unit mistakes ("500us" for "500ms").
const timeout = duration(1, 5 * minute, theDefault(formatMs(defaults.timeout)));
// The first `threshold` failed attempts of a streak go back to back: past 1000 the breaker
// hardly ever opens. Registries document 5 to 10.
const threshold = (zero: string) => integer(1, 1000, zero);
// Past an hour a recovered receiver waits too long and the queue looks dead.
const backoff = (zero: string) => duration(1, hour, zero);
// Beyond 1000 attempts the limit that matters is maxAge.
const maxAttempts = integer(
  1,
  1000,
  "unlimited",
  "; to retry longer, use 0 and bound it with maxAge",
);
// A month-old registry event is stale.
const maxAge = duration(1, 720 * hour, "unlimited");
// 1000 events of ~1 KB is about the 1 MiB body limit receivers (and the relay) default to.
const maxBatch = integer(1, 1000);
// Each partition is a concurrent delivery loop against one receiver (in the relay, a Durable
// Object the admin API and /metrics fan out to).
const partitions = integer(1, 100);
// An in-memory queue: a million ~1 KB events is already about 1 GB.
const capacity = integer(1, 1_000_000);

const isHttpUrl = (text: string): boolean => {
  try {
    const { protocol } = new URL(text);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
};

const endpointUrl: Rule = (value, path, report) => {
  if (typeof value !== "string") return report(path, "must be a string");
  if (!isHttpUrl(value)) report(path, "must be an absolute http or https URL");
  else if (value.includes("#")) report(path, "must not have a #fragment (it is never sent)");
  return value;
};

const headerValue = textWhere((text) => !/[\r\n\0]/.test(text), "must not contain CR, LF or NUL");

const headers: Rule = (value, path, report) => {
  if (!isMapping(value)) return report(path, "must be a map of header names to lists of values");
  const kept: Record<string, unknown> = {};
  for (const [name, values] of Object.entries(value)) {
    // As valibot's record: never a key that could reach a prototype.
    if (["__proto__", "prototype", "constructor"].includes(name)) continue;
    const at = [...path, name];
    if (!token.test(name)) report(at, "is not a valid header name");
    if (typeof values === "string") kept[name] = headerValue(values, at, report);
    else if (isStringList(values)) {
      kept[name] = values.map((item, index) => headerValue(item, [...at, index], report));
    } else report(at, "must be a string or a list of strings");
  }
  return kept;
};

const mediaTypeList = listOf(
  textWhere(
    (text) => /^[A-Za-z0-9][\w!#$&^.+-]*\/[A-Za-z0-9][\w!#$&^.+-]*$/.test(text),
    "must be a media type such as application/octet-stream",
  ),
  "must be a list of media types",
);

const secret: Rule = (value, path, report) => {
  if (typeof value !== "string") return report(path, "must be a string");
  // The check signWebhook makes, so that a secret accepted here can sign.
  const bytes = secretBytes(value)?.length;
  if (bytes === undefined) {
    report(path, "must be whsec_ followed by base64 (a Standard Webhooks secret)");
  } else if (bytes < 24 || bytes > 64) {
    report(path, "must decode to 24 to 64 bytes (Standard Webhooks)");
  }
  return value;
};

const secrets: Rule = (value, path, report) => {
  if (typeof value === "string") return secret(value, path, report);
  if (!isStringList(value)) {
    return report(path, "must be a secret (whsec_...) or a list of secrets");
  }
  if (value.length === 0) report(path, "must list at least one secret");
  return value.map((text, index) => secret(text, [...path, index], report));
};

const oneOf = (values: readonly unknown[], message: string) =>
  valueWhere((value) => values.includes(value), message);

const same: Rule = (value) => value;

const strategies = {
  breaker: strictObject({
    type: same,
    threshold: threshold("the endpoint's threshold"),
    backoff: backoff("the endpoint's backoff"),
  }),
  exponential: strictObject({
    type: same,
    base: duration(0, hour),
    factor: backoff(theDefault(formatMs(defaults.exponential.factor))),
    max: backoff(theDefault(formatMs(defaults.exponential.max))),
  }),
};

const strategy: Rule = (value, path, report) => {
  if (!isMapping(value)) return report(path, mappingMessage);
  const { type } = value;
  if (type === "breaker" || type === "exponential") return strategies[type](value, path, report);
  return report([...path, "type"], 'must be "breaker" or "exponential"');
};

const mediaTypes = [EventsMediaType, EventsMediaTypeV2];

// A glob of `match`: one line of text, short enough to be a name (repositories are <= 255).
const globs = listOf(
  textWhere(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
    (text) => text !== "" && text.length <= 512 && !/[\u0000-\u001f]/.test(text),
    "must be a non-empty glob of at most 512 characters, on one line",
  ),
  "must be a list of globs",
);

/** One endpoint's configuration, key by key; returns the values to normalise. */
export const endpointKeys = strictObject({
  name: textWhere(() => true, ""),
  disabled: valueWhere((value) => typeof value === "boolean", "must be true or false"),
  url: endpointUrl,
  headers,
  timeout,
  threshold: threshold(theDefault(defaults.threshold)),
  backoff: backoff(theDefault(formatMs(defaults.backoff))),
  ignoredmediatypes: mediaTypeList,
  ignore: strictObject({
    mediatypes: mediaTypeList,
    actions: listOf(
      oneOf(
        [EventActionPull, EventActionPush, EventActionMount, EventActionDelete],
        'must be one of "pull", "push", "mount", "delete"',
      ),
      "must be a list of actions",
    ),
  }),
  secret: secrets,
  maxAttempts,
  maxAge,
  maxBatch,
  strategy,
  partitions,
  mediaType: oneOf(mediaTypes, `must be ${mediaTypes.join(" or ")}`),
  capacity,
  overflow: oneOf(["reject", "drop-oldest"], 'must be "reject" or "drop-oldest"'),
  format: oneOf(ENDPOINT_FORMATS, `must be ${ENDPOINT_FORMATS.map((f) => `"${f}"`).join(", ")}`),
  match: strictObject({ repositories: globs, tags: globs, actions: globs, sources: globs }),
});
