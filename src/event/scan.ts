// Scanning JSON text without parsing it: where a body is not JSON (and why), a root key seen
// twice, and where each event of a valid body starts and ends. Iterative: bodies may nest 100k
// levels deep.

import type { BodyText } from "./decode.ts";
import type { Finding } from "./limits.ts";

// ---------------------------------------------------------------------------------------------
// Syntax errors: engines word (and place) them differently, so locate them ourselves. The same
// pass counts the root "events" keys of a valid body.

/**
 * Blanks, then a token: punctuation, a string (group 2: its closing quote, "" when a bad or
 * missing character ends it first), or a number or literal (group 3). Nothing else is a token.
 */
const TOKEN =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters end a string.
  /([ \t\n\r]*)(?:[[\]{}:,]|"(?:[^"\\\u0000-\u001f]+|\\["\\/bfnrt]|\\u[\da-fA-F]{4})*("?)|(true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?))?/y;

// What the next token must be; from NEXT on, the innermost closer may come too.
const VALUE = 0;
const KEY = 1;
const COLON = 2;
const NEXT = 3; // ',' or a closer (or the end, at the root)
const OPENED = 4; // flag: just after '[' (VALUE) or '{' (KEY)
const WHERE = [
  "where a value was expected",
  "where a string key was expected",
  "after a key",
  "after a value",
];

/**
 * Where and why `text` is not JSON (RFC 8259), or, if it is, how many times its root object has
 * the key "events" (with `count`, else 0). One token at a time, with a stack of closers: no
 * recursion.
 */
function scanJson(text: string, count?: boolean): string | number {
  const closers: string[] = [];
  let expect = VALUE;
  let events = 0;
  let at = 0;
  let reason: string | undefined;
  for (let i = 0; !reason; ) {
    TOKEN.lastIndex = i;
    const [token, blanks, quote, scalar] = TOKEN.exec(text) as RegExpExecArray;
    at = i + (blanks as string).length;
    i += token.length;
    const c = text[at];
    const closer = closers[closers.length - 1];
    const base = expect & 3;
    if (c && c === closer && expect >= NEXT) {
      closers.pop();
      expect = NEXT;
    } else if (base === NEXT && c === undefined && !closer) return events;
    else if (base === NEXT && c === "," && closer) expect = closer === "]" ? VALUE : KEY;
    else if (base === COLON && c === ":") expect = VALUE;
    else if ((base < COLON && quote) || (base === VALUE && scalar)) {
      // A whole string, number or literal. Root keys are counted only for parseJson, on text
      // JSON.parse has read: on the error path JSON.parse is not called again (it may be what
      // failed).
      if (
        count &&
        base === KEY &&
        closers.length === 1 &&
        JSON.parse(text.slice(at, i)) === "events"
      ) {
        events++;
      }
      expect = base === KEY ? COLON : NEXT;
    } else if (base < COLON && c === '"') {
      // The string stops at a character that may not be there, or at the end of the text.
      if (i < text.length) {
        at = i;
        reason = `${text[i] === "\\" ? "invalid escape" : "control character"} in string`;
      } else reason = "unterminated string";
    } else if (base === VALUE && (c === "{" || c === "[")) {
      closers.push(c === "{" ? "}" : "]");
      expect = c === "{" ? KEY | OPENED : VALUE | OPENED;
    } else {
      const found = c === undefined ? "end of input" : `character ${JSON.stringify(c)}`;
      reason = `unexpected ${found} ${WHERE[base]}`;
    }
  }
  const lines = text.slice(0, at).split("\n");
  const column = (lines[lines.length - 1] as string).length + 1;
  return `${reason} (line ${lines.length}, column ${column}, position ${at})`;
}

/**
 * The issue for a body JSON.parse refused (`error`): its syntax error, or the engine's words for
 * valid JSON it could not parse (one whose parser recursed would be out of stack on deep bodies).
 */
export function jsonIssue(text: string, error: unknown): Finding {
  const found = scanJson(text);
  const reason = typeof found === "string" ? found : ((error as Error)?.message ?? error);
  const message = text.trim() === "" ? "body is empty" : `body is not valid JSON: ${reason}`;
  return { path: "", message };
}

/**
 * A body's text (decode.ts) parsed, or undefined with its issue added to `issues`: not JSON, or
 * a root object with "events" twice (JSON.parse keeps the last one).
 */
export function parseJson({ text, escaped }: BodyText, issues: Finding[]): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    issues.push(jsonIssue(text, error));
    return undefined;
  }
  // A text search rules out almost every body first: a repeated key is a second `vents"`, or an
  // escaped letter of it (e, n, s, t, v are \u0065, \u006e, \u0073, \u0074, \u0076).
  const suspect =
    text.includes('vents"', text.indexOf('vents"') + 6) || (escaped && /\\u00[67]/.test(text));
  // The text is JSON here, so the scan counts (a number) rather than finding an error.
  if (suspect && (scanJson(text, true) as number) > 1) {
    issues.push({ path: "events", message: "duplicate key; all but the last would be lost" });
  }
  return value;
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
