// `registry-relay/config`: one endpoint's configuration from a file or the environment: distribution's
// `notifications.endpoints[]` keys plus ours, checked key by key (keys.ts) and normalised with
// the defaults (settings.ts).
// Hand-written checks, not valibot: `npm run size` measured valibot at +3 KB gzip for
// parseEndpointConfig; EndpointConfigSchema (config-schema.ts, `registry-relay/schema`) wraps
// these same checks for valibot users.
import { ConfigError, type ConfigIssue } from "./config-error.ts";
import { endpointKeys } from "./keys.ts";
import type { Path } from "./rules.ts";
import { type ConfigKeys, type EndpointConfig, withDefaults } from "./settings.ts";

export { parseDuration } from "./duration.ts";
export type { EndpointConfig, EndpointSettings } from "./settings.ts";
// What parseEndpointConfig throws, and the Go durations it reads: this module is the entry point.
export { ConfigError, type ConfigIssue };

/**
 * What {@link parseEndpointConfig} accepts (distribution's YAML keys plus ours).
 *
 * @example
 * ```ts
 * import type { EndpointConfigInput } from "registry-relay/config";
 * const input: EndpointConfigInput = { url: "https://hooks.example.com/in", timeout: "2s", ignore: { actions: ["pull"] } };
 * ```
 */
export type EndpointConfigInput = ConfigKeys<string | number>;

/**
 * Checks a configuration without throwing: the normalised result, or every problem with its path
 * (what `parseEndpointConfig` and the valibot `EndpointConfigSchema` report).
 *
 * @example
 * ```ts
 * import { checkConfig } from "registry-relay/config";
 * const { config, issues } = checkConfig({ url: "https://hooks.example.com/in", timeout: "2 s" });
 * if (!config) console.log(issues); // [{ path: ["timeout"], message: "…" }]
 * ```
 */
export function checkConfig(input: unknown): {
  config?: EndpointConfig;
  issues: { path: Path; message: string }[];
} {
  const issues: { path: Path; message: string }[] = [];
  const report = (path: Path, message: string) => {
    issues.push({ path, message });
    return undefined;
  };
  const raw = endpointKeys(input, [], report) as ConfigKeys<number>;
  // CloudEvents binary mode carries one event per request.
  if (raw?.format === "cdevents") {
    if (raw.maxBatch != null && raw.maxBatch > 1) {
      report(["maxBatch"], 'must be 1 with format "cdevents" (one CDEvent per request)');
    }
    // Binary mode puts the event's attributes in ce-* headers; a configured one would join them.
    for (const name of Object.keys(raw.headers ?? {})) {
      if (/^ce-/i.test(name)) {
        report(
          ["headers", name],
          'must not be set with format "cdevents": each request sets its own ce-* headers',
        );
      }
    }
  }
  return issues.length > 0 ? { issues } : { config: withDefaults(raw), issues };
}

/**
 * Validates and normalises one endpoint's configuration: distribution's keys (`name`,
 * `disabled`, `url`, `headers`, `timeout`, `threshold`, `backoff`, `ignoredmediatypes`,
 * `ignore.mediatypes`, `ignore.actions`) and ours (`secret`, `maxAttempts`, `maxAge`,
 * `maxBatch`, `strategy`, `partitions`, `mediaType`, `capacity`, `overflow`, `format`, `match`). Durations are Go
 * strings or ms; each key's bounds are on {@link EndpointConfigInput}. Throws {@link ConfigError}
 * naming the key path and the reason (for a value out of bounds: the bounds, never the value);
 * unknown keys are errors, with the known key they are a typo of.
 *
 * @example
 * ```ts
 * import { parseEndpointConfig } from "registry-relay/config";
 * const config = parseEndpointConfig({
 *   url: "https://hooks.example.com/in",
 *   headers: { Authorization: ["Bearer s3cr3t"] },
 *   timeout: "2s",
 *   ignore: { mediatypes: ["application/octet-stream"], actions: ["pull"] },
 *   maxAttempts: 20,
 * });
 * config.backoff; // 1000
 * ```
 */
export function parseEndpointConfig(input: unknown): EndpointConfig {
  const { config, issues } = checkConfig(input ?? {});
  if (config) return config;
  const listed = issues.map(({ path, message }) => ({
    key: path
      .map((key) => (typeof key === "number" ? `[${key}]` : `.${key}`))
      .join("")
      .replace(/^\./, ""),
    message,
  }));
  const [first] = listed as [ConfigIssue];
  throw new ConfigError(first.key, first.message, listed);
}
