/**
 * One problem found in a configuration: `key` is the path of the offending key
 * (`ignore.actions[1]`, `headers.Authorization[0]`, `""` for the whole input).
 *
 * @example
 * ```ts
 * import type { ConfigIssue } from "registry-relay/config";
 * const show = (issue: ConfigIssue) => `${issue.key || "(root)"}: ${issue.message}`;
 * ```
 */
export interface ConfigIssue {
  key: string;
  message: string;
}

/**
 * A configuration was rejected. `key` and `reason` describe the first problem; `issues` lists
 * all of them. Messages never contain a header value or a secret.
 *
 * @example
 * ```ts
 * import { ConfigError, parseEndpointConfig } from "registry-relay/config";
 * try { parseEndpointConfig({ timeout: "1 second" }); } catch (e) {
 *   if (e instanceof ConfigError) console.error(e.key, e.reason); // timeout "1 second" is not a duration ...
 * }
 * ```
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly key: string;
  readonly reason: string;
  readonly issues: ConfigIssue[];
  constructor(key: string, reason: string, issues: ConfigIssue[] = [{ key, message: reason }]) {
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    super(`${key ? `${key}: ` : ""}${reason}${more}`);
    this.key = key;
    this.reason = reason;
    this.issues = issues;
  }
}
