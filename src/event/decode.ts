// A notification body as the text JSON.parse reads: bytes decoded as strict UTF-8, a leading BOM
// dropped, lone surrogates read as U+FFFD. Parsing and slicing event texts (raw.ts) both start
// here, so a slice is always a piece of exactly what was parsed.

import type { Finding } from "./limits.ts";

/** The text JSON.parse reads; `escaped`: it has a backslash (some checks only matter then). */
export interface BodyText {
  text: string;
  escaped: boolean;
}

const STRICT_UTF8 = { fatal: true, ignoreBOM: false };
let utf8: TextDecoder | undefined;

/** The bytes of a body given as bytes (any `ArrayBufferView` or `ArrayBuffer`), else undefined. */
function bytesOf(body: unknown): Uint8Array | undefined {
  if (ArrayBuffer.isView(body))
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  // toString tag instead of instanceof: buffers may come from another realm (iframe, vm).
  if (Object.prototype.toString.call(body) === "[object ArrayBuffer]") {
    return new Uint8Array(body as ArrayBuffer);
  }
  return undefined;
}

/** Byte offset where the first malformed UTF-8 sequence starts (WHATWG decoder rules). */
function invalidUtf8At(bytes: Uint8Array): number {
  // The shortest prefix a streaming fatal decoder rejects ends at the first offending byte.
  let bad = 0;
  for (let high = bytes.length; bad < high; ) {
    const mid = (bad + high) >> 1;
    try {
      new TextDecoder("utf-8", STRICT_UTF8).decode(bytes.subarray(0, mid + 1), {
        stream: true,
      });
      bad = mid + 1;
    } catch {
      high = mid;
    }
  }
  // When it interrupts a sequence (or the input ends inside one), the sequence is what is bad.
  let lead = bad - 1;
  while (bad - lead < 4 && ((bytes[lead] as number) & 0xc0) === 0x80) lead--;
  const first = bytes[lead] as number;
  const length = first >= 0xf0 ? 3 : first >= 0xe0 ? 2 : first >= 0xc0 ? 1 : 0;
  return bad - lead <= length ? lead : bad;
}

/** Every escape whole (so `\\ud800` is a backslash and text); a pair of surrogate escapes as one. */
const SURROGATE_ESCAPES =
  /\\(?:u[dD][89abAB][\da-fA-F]{2}(?:\\u[dD][c-fC-F][\da-fA-F]{2})?|u[dD][c-fC-F][\da-fA-F]{2}|.)/g;

/**
 * `text` with every lone surrogate (raw, or as a `\uXXXX` escape) replaced by U+FFFD, as Go's
 * decoder does. Otherwise the encoder writes it as `\ufffd`, which reads back as a real U+FFFD
 * that is then written raw: a second round trip would change the bytes. Lengths are kept, so
 * syntax error positions still point into the body.
 */
function wellFormed(text: string, escaped: boolean): string {
  // ES2024 (Node 20, current browsers; older engines keep raw ones). A one-byte string, as most
  // bodies are, is returned at once.
  let out = (text as string & { toWellFormed?(): string }).toWellFormed?.() ?? text;
  if (escaped && /\\ud/i.test(out)) {
    out = out.replace(SURROGATE_ESCAPES, (found) => (found.length === 6 ? "\\ufffd" : found));
  }
  return out;
}

/**
 * The body (a string or bytes) as the text to parse, an issue when its bytes are not UTF-8, or
 * undefined when it is neither (an already parsed value). A leading UTF-8 BOM is dropped (the
 * decoder's default): RFC 8259 §8.1 allows a parser to ignore it. Go's decoder rejects it, but
 * distribution never writes one and the rest of the body is unambiguous.
 */
export function bodyText(body: unknown): BodyText | Finding | undefined {
  let text: string;
  if (typeof body === "string") text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  else {
    const bytes = bytesOf(body);
    if (bytes === undefined) return undefined;
    utf8 ??= new TextDecoder("utf-8", STRICT_UTF8);
    try {
      text = utf8.decode(bytes);
    } catch {
      const at = invalidUtf8At(bytes);
      return { path: "", message: `body is not valid UTF-8 (malformed sequence at byte ${at})` };
    }
  }
  const escaped = text.includes("\\");
  // Decoded bytes never hold a lone surrogate; a string or an escape may.
  if (escaped || typeof body === "string") text = wellFormed(text, escaped);
  return { text, escaped };
}
