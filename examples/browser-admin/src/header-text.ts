// Headers as people paste them: `Name: value` lines (a raw request head too) or a JSON object.
// The signature checker and the validator (zot's Ce-*, GitHub's X-GitHub-*) read them.

/**
 * Parses pasted headers: `Name: value` lines (a raw HTTP request head works: its request line is
 * skipped) or a JSON object. Names are lower-cased. Throws a message naming the line or key.
 *
 * @example
 * ```ts
 * import { parseHeaderText } from "./header-text.ts";
 * parseHeaderText("Webhook-Id: msg_1\nwebhook-timestamp: 1700000000"); // { "webhook-id": "msg_1", ... }
 * ```
 */
export function parseHeaderText(text: string): Record<string, string> {
  const trimmed = text.trim();
  const headers: Record<string, string> = {};
  if (trimmed.startsWith("{")) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw new TypeError(`Headers: not valid JSON (${(error as Error).message})`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new TypeError("Headers: the JSON must be an object of header names to values");
    }
    for (const [name, item] of Object.entries(value)) {
      if (typeof item !== "string")
        throw new TypeError(`Headers: the value of "${name}" must be a string`);
      headers[name.toLowerCase()] = item;
    }
    return headers;
  }
  const lines = trimmed.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    if (index === 0 && /^[A-Z]+ \S+ HTTP\/\d(\.\d)?$/.test(line.trim())) return;
    const colon = line.indexOf(":");
    if (colon <= 0) {
      throw new TypeError(`Headers, line ${index + 1}: expected "name: value"`);
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name in headers) throw new TypeError(`Headers, line ${index + 1}: ${name} appears twice`);
    headers[name] = line.slice(colon + 1).trim();
  });
  return headers;
}
