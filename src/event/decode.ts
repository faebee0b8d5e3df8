// A notification body as the text JSON.parse reads: bytes decoded as strict UTF-8, a leading BOM
// dropped, lone surrogates read as U+FFFD. Parsing and slicing event texts (raw.ts) both start
// here, so a slice is always a piece of exactly what was parsed.

import { type Finding, utf8Bytes } from "./limits.ts";

/** The text JSON.parse reads; `escaped`: it has a backslash (some checks only matter then). */
export interface BodyText {
  text: string;
  escaped: boolean;
}

/** Strict: a malformed sequence throws. A leading BOM is dropped (`ignoreBOM: false`). */
const utf8 = /* @__PURE__ */ new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Every escape whole (so `\\ud800` is a backslash and text); a pair of surrogate escapes as one. */
const SURROGATE_ESCAPES = /\\(?:ud[89ab][\da-f]{2}(?:\\ud[c-f][\da-f]{2})?|ud[c-f][\da-f]{2}|.)/gi;

/**
 * The body (a string or bytes) as the text to parse, an issue when its bytes are not UTF-8, or
 * undefined when it is neither (an already parsed value). A leading UTF-8 BOM is dropped (the
 * decoder's default): RFC 8259 §8.1 allows a parser to ignore it. Go's decoder rejects it, but
 * distribution never writes one and the rest of the body is unambiguous.
 *
 * Every lone surrogate (raw, or as a `\uXXXX` escape) reads as U+FFFD, as Go's decoder does.
 * Otherwise the encoder writes it as `\ufffd`, which reads back as a real U+FFFD that is then
 * written raw: a second round trip would change the bytes. Lengths are kept, so syntax error
 * positions still point into the body.
 */
export function bodyText(body: unknown): BodyText | Finding | undefined {
  let text: string;
  if (typeof body === "string") {
    // Decoded bytes never hold a raw lone surrogate; a string may. toWellFormed is ES2024 (Node
    // 20, current browsers; older engines keep them) and returns a one-byte string at once.
    text = ((body as string & { toWellFormed?(): string }).toWellFormed?.() ?? body).replace(
      /^\ufeff/,
      "",
    );
  }
  // toString tag instead of instanceof: buffers may come from another realm (iframe, vm).
  else if (
    ArrayBuffer.isView(body) ||
    Object.prototype.toString.call(body) === "[object ArrayBuffer]"
  ) {
    try {
      text = utf8.decode(body as BufferSource);
    } catch (error) {
      // Where the first malformed sequence starts (WHATWG rules): decoded with U+FFFD for each
      // and encoded again, the bytes are the same up to it, and differ at or after the start of
      // its U+FFFD (EF BF BD).
      const view = body as Partial<ArrayBufferView>;
      const bytes = new Uint8Array(
        view.buffer ?? (body as ArrayBuffer),
        view.byteOffset,
        view.byteLength,
      );
      const again = utf8Bytes(
        new TextDecoder("utf-8", { fatal: false, ignoreBOM: true }).decode(bytes),
      );
      let at = 0;
      while (at < bytes.length && bytes[at] === again[at]) at++;
      // Same bytes: not a UTF-8 problem (an object only tagged "ArrayBuffer"): safeParseEnvelope
      // answers with what the decoder said.
      if (at === bytes.length) throw error;
      while (((again[at] as number) & 0xc0) === 0x80) at--;
      return { path: "", message: `body is not valid UTF-8 (malformed sequence at byte ${at})` };
    }
  } else return undefined;
  const escaped = text.includes("\\");
  if (escaped && /\\ud/i.test(text)) {
    // The pattern ignores case for the hex digits; `\U` is no escape, so only `\u` ones go.
    text = text.replace(SURROGATE_ESCAPES, (found) =>
      found.length === 6 && found[1] === "u" ? "\\ufffd" : found,
    );
  }
  return { text, escaped };
}
