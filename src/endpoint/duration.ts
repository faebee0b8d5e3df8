import { ConfigError } from "./config-error.ts";

const unitMs: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const durationShape = /^[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|ms|s|m|h))+$/;
const durationPart = /(\d+\.?\d*|\.\d+)(ns|us|ms|s|m|h)/g;

/**
 * Parses a duration into milliseconds: a Go duration string (`"500ms"`, `"1s"`, `"2m"`,
 * `"1h30m"`, `"1.5s"`, `"300us"`, `"0"`) or a number, taken as milliseconds. Unlike Go's YAML,
 * a bare number is milliseconds, not nanoseconds. Throws {@link ConfigError} (key `""`).
 *
 * @example
 * ```ts
 * import { parseDuration } from "registry-relay/config";
 * parseDuration("1h30m"); // 5400000
 * parseDuration(250);     // 250
 * ```
 */
export function parseDuration(value: string | number): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value))
      throw new ConfigError("", "a duration must be a finite number of ms");
    return value;
  }
  if (typeof value !== "string") {
    throw new ConfigError("", 'must be a duration such as "1s" or a number of milliseconds');
  }
  // Go also reads µs as U+00B5 (micro sign) or U+03BC (Greek mu).
  const text = value.trim().replace(/[\u00b5\u03bc]s/g, "us");
  if (/^[-+]?0$/.test(text)) return 0;
  if (!durationShape.test(text)) {
    const shown = JSON.stringify(value);
    throw new ConfigError(
      "",
      /^[-+]?\d+(\.\d*)?$/.test(text)
        ? `duration ${shown} has no unit (e.g. "${text}ms")`
        : `${shown} is not a duration such as "1s" or "1h30m" (units: ns, us, ms, s, m, h)`,
    );
  }
  let total = 0;
  for (const [, amount, unit] of text.matchAll(durationPart)) {
    total += Number(amount) * (unitMs[unit as string] ?? 0);
  }
  return text.startsWith("-") ? -total : total;
}
