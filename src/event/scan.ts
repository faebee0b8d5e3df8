// Scanning JSON text without parsing it: where a body is not JSON (and why), a root key seen
// twice, and where each event of a valid body starts and ends. Iterative: bodies may nest 100k
// levels deep.

import type { Finding } from "./limits.ts";

// ---------------------------------------------------------------------------------------------
// Syntax errors: engines word (and place) them differently, so locate them ourselves. The same
// pass finds a root key seen twice.

const SPACE = /[ \t\n\r]*/y;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it stops at.
const STRING_PREFIX = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*/y;
const DIGITS = /\d+/y;
const LITERAL = /true|false|null/y;

const TWICE = "twice";

/**
 * Where and why `text` is not JSON (RFC 8259), or undefined if it is. Iterative: no recursion.
 * With `rootKey`, that key's second occurrence in the root object is a finding (reason "twice").
 */
function scanJson(text: string, rootKey?: string): { at: number; reason: string } | undefined {
  const closers: string[] = []; // "}" or "]" for each open container
  let seen = false;
  let i = 0;
  /** Moves past what `pattern` matches at `i`, if it does. */
  const skip = (pattern: RegExp): boolean => {
    pattern.lastIndex = i;
    const matched = pattern.test(text);
    if (matched) i = pattern.lastIndex;
    return matched;
  };
  const found = (): string =>
    i < text.length ? `character ${JSON.stringify(text[i])}` : "end of input";
  const string = (): string | undefined => {
    const start = i;
    skip(STRING_PREFIX);
    const c = text[i];
    if (c === '"') {
      i++;
      return undefined;
    }
    if (c === "\\" && text[i + 1] === "u") return "\\u must be followed by 4 hex digits";
    if (c === "\\" && i + 1 < text.length) return `invalid escape \\${text[i + 1]}`;
    if (c !== undefined && c !== "\\") return "control character in string (must be escaped)";
    i = start;
    return "unterminated string";
  };
  /** A member's key and colon; `first`: right after `{`. */
  const key = (first: boolean): string | undefined => {
    skip(SPACE);
    if (text[i] !== '"') return `expected a string key${first ? " or '}'" : ""}, found ${found()}`;
    const start = i;
    const problem = string();
    if (problem) return problem;
    if (rootKey && closers.length === 1 && JSON.parse(text.slice(start, i)) === rootKey) {
      if (seen) return TWICE;
      seen = true;
    }
    skip(SPACE);
    if (text[i] !== ":") return `expected ':' after an object key, found ${found()}`;
    i++;
    return undefined;
  };
  const digits = (where: string): string | undefined =>
    skip(DIGITS) ? undefined : `expected a digit${where}, found ${found()}`;
  for (;;) {
    // A value is expected at i.
    skip(SPACE);
    const c = text[i];
    let problem: string | undefined;
    if (c === "{" || c === "[") {
      i++;
      skip(SPACE);
      const close = c === "{" ? "}" : "]";
      if (text[i] === close) i++;
      else {
        closers.push(close);
        if (c === "[") continue;
        problem = key(true);
        if (!problem) continue;
      }
    } else if (c === '"') problem = string();
    else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) {
      if (c === "-") i++;
      if (text[i] === "0") i++;
      else problem = digits("");
      if (!problem && text[i] === ".") {
        i++;
        problem = digits(" after '.'");
      }
      if (!problem && (text[i] === "e" || text[i] === "E")) {
        i++;
        if (text[i] === "+" || text[i] === "-") i++;
        problem = digits(" in the exponent");
      }
    } else if (!skip(LITERAL)) problem = `expected a JSON value, found ${found()}`;
    // After a value: close containers or move to the next member.
    while (!problem) {
      skip(SPACE);
      const close = closers[closers.length - 1];
      if (close === undefined) {
        if (i < text.length) problem = `unexpected ${found()} after the JSON value`;
        else return undefined;
      } else if (text[i] === close) {
        closers.pop();
        i++;
      } else if (text[i] !== ",") problem = `expected ',' or '${close}', found ${found()}`;
      else {
        i++;
        if (close === "]") break;
        problem = key(false);
        if (!problem) break;
      }
    }
    if (problem) return { at: i, reason: problem };
  }
}

/**
 * The issue for a body JSON.parse refused (`error`): its syntax error, or the engine's words for
 * valid JSON it could not parse (one whose parser recursed would be out of stack on deep bodies).
 */
export function jsonIssue(text: string, error: unknown): Finding {
  if (text.trim() === "") return { path: "", message: "body is empty" };
  const found = scanJson(text);
  let reason = `${(error as Error)?.message ?? error}`;
  if (found !== undefined) {
    const lines = text.slice(0, found.at).split("\n");
    const column = (lines[lines.length - 1] as string).length + 1;
    reason = `${found.reason} (line ${lines.length}, column ${column}, position ${found.at})`;
  }
  return { path: "", message: `body is not valid JSON: ${reason}` };
}

/**
 * The issue for a root object with "events" twice (JSON.parse keeps the last one), if so. A text
 * search rules out almost every body first: a repeated key is a second `vents"`, or an escaped
 * letter of it (e, n, s, t, v are \u0065, \u006e, \u0073, \u0074, \u0076). `escaped`: the text
 * has a backslash.
 */
export function duplicateEventsIssue(text: string, escaped: boolean): Finding | undefined {
  const suspect =
    text.includes('vents"', text.indexOf('vents"') + 6) || (escaped && /\\u00[67]/.test(text));
  if (suspect && scanJson(text, "events")?.reason === TWICE) {
    return {
      path: "events",
      message: "duplicate key; all but the last would be lost",
    };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Event boundaries in a valid body

/** A run of characters that are none of `"{}[],`: whitespace, colons, numbers and literals. */
const PLAIN = /[^"{}[\],]*/y;

/**
 * Where each element of the root object's `"events"` array starts and ends in `text`, which is
 * valid JSON (a body parseEnvelope accepted): `[start0, end0, start1, end1, …]`, from an event's
 * `{` to just past its `}` (elements that are not objects or arrays are not listed). One linear
 * pass; strings are skipped with `indexOf`.
 */
export function eventBounds(text: string): number[] {
  const bounds: number[] = [];
  let depth = 0; // containers open before i
  let key = false; // the next string in the root object is a key
  let events = false; // the root key just read is "events"
  let inEvents = false; // inside the root's "events" array
  for (let i = 0; ; i++) {
    PLAIN.lastIndex = i;
    PLAIN.test(text);
    i = PLAIN.lastIndex;
    if (i >= text.length) return bounds;
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // The closing quote is the first one after an even run of backslashes.
      let end = i;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) return bounds;
        let before = end - 1;
        while (text.charCodeAt(before) === 0x5c) before--;
        if ((end - 1 - before) % 2 === 0) break;
      }
      if (depth === 1 && key) {
        const quoted = text.slice(i, end + 1);
        events =
          quoted === '"events"' || (quoted.includes("\\") && JSON.parse(quoted) === "events");
        key = false;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth === 1) key = true;
      else if (depth === 2) inEvents = events && c === 0x5b;
      else if (depth === 3 && inEvents) bounds.push(i);
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 2 && inEvents) bounds.push(i + 1);
      else if (depth === 1) inEvents = false;
    } else if (depth === 1) {
      key = true; // a comma between root members
      events = false;
    }
  }
}
