// Reading a request body without ever holding more than the limit in memory.

/**
 * Thrown by {@link readBodyLimited} when a body is (or announces to be) larger than the limit.
 *
 * @example
 * ```ts
 * import { BodyTooLargeError, readBodyLimited } from "registry-relay/hono";
 * try {
 *   await readBodyLimited(request, 1024);
 * } catch (error) {
 *   if (error instanceof BodyTooLargeError) console.log(error.limit); // 1024
 * }
 * ```
 */
export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
  /** The limit in bytes that the body exceeded. */
  readonly limit: number;

  constructor(limit: number) {
    super(`the body is larger than the limit of ${limit} bytes`);
    this.limit = limit;
  }
}

/**
 * Reads a request body into one `Uint8Array`, counting bytes as they arrive. It fails fast with
 * {@link BodyTooLargeError} when `Content-Length` is over `maxBytes`, and otherwise as soon as the
 * running count passes it (a chunked body has no `Content-Length`), cancelling the stream.
 *
 * @example
 * ```ts
 * import { readBodyLimited } from "registry-relay/hono";
 * const bytes = await readBodyLimited(request, 1024 * 1024);
 * ```
 */
export async function readBodyLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) {
    await request.body?.cancel().catch(() => undefined);
    throw new BodyTooLargeError(maxBytes);
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
