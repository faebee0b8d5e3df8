// Reading one CloudEvent 1.0 off an HTTP request, as Harbor (structured mode) and zot (binary
// mode) send it: the mode from `Content-Type` (HTTP protocol binding §3), the required
// attributes, the time and the data. Writing CloudEvents is cloudevents.ts's job, not this one's.

import { child } from "../event/limits.ts";
import type { NotificationInput } from "./model.ts";
import { contentType, header, type Json, type Reader } from "./read.ts";

/** The attributes and data of a received CloudEvent. */
export interface CloudEventIn {
  id: string;
  source: string;
  type: string;
  /** RFC 3339, as sent. */
  time?: string | undefined;
  data: Json;
  /** The path of the data in error messages: `data` (structured) or `""` (binary: the body). */
  dataPath: string;
  /** An extension attribute (Harbor's `operator`, `requestid`), when it is a non-empty string. */
  extension(name: string): string | undefined;
}

/**
 * How the request carries its event: `structured` (`application/cloudevents+json`, everything in
 * the body), `batch` (`application/cloudevents-batch+json`) or `binary` (any other type:
 * attributes in `ce-*` headers, the body is the data).
 */
export function cloudEventMode(input: NotificationInput): "structured" | "batch" | "binary" {
  const type = contentType(input.headers);
  if (type.startsWith("application/cloudevents-batch")) return "batch";
  return type.startsWith("application/cloudevents") ? "structured" : "binary";
}

/**
 * The required attributes (`specversion` 1.0, `id`, `source`, `type`) and `time` of `attributes`,
 * each key `prefix` + its name (`ce-` in binary mode) at `base` in error messages.
 */
function read(
  reader: Reader,
  attributes: Json,
  prefix: string,
  base: string,
): Pick<CloudEventIn, "id" | "source" | "type" | "time"> {
  const key = `${prefix}specversion`;
  const version = reader.string(attributes, key, base);
  if (version !== "1.0") {
    const shown = version.length > 40 ? `${version.slice(0, 40)}…` : version;
    reader.fail(child(base, key), `must be "1.0", not ${JSON.stringify(shown)}`);
  }
  return {
    id: reader.string(attributes, `${prefix}id`, base),
    source: reader.string(attributes, `${prefix}source`, base),
    type: reader.string(attributes, `${prefix}type`, base),
    time: reader.optTime(attributes, `${prefix}time`, base),
  };
}

/** A structured-mode event: the JSON object of the body. `data` must be a JSON object. */
export function structuredEvent(reader: Reader, root: Json): CloudEventIn {
  return {
    ...read(reader, root, "", ""),
    data: reader.object(root, "data", ""),
    dataPath: "data",
    extension: (name) => reader.optString(root, name, ""),
  };
}

/**
 * Percent-decoding of a header value (binding §3.1.3: values are percent-encoded beyond
 * printable ASCII); a value that does not decode is kept as it is.
 */
function decoded(value: string | undefined): string | undefined {
  if (value === undefined || !value.includes("%")) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A binary-mode event: attributes in `ce-*` headers, the body (a JSON object) is the data. */
export function binaryEvent(reader: Reader, input: NotificationInput): CloudEventIn {
  const attribute = (name: string) => decoded(header(input.headers, `ce-${name}`));
  const attributes: Json = {};
  for (const name of ["specversion", "id", "source", "type", "time"]) {
    attributes[`ce-${name}`] = attribute(name);
  }
  return {
    ...read(reader, attributes, "ce-", "headers"),
    data: reader.json(input.body),
    dataPath: "",
    extension: (name) => attribute(name) || undefined,
  };
}
