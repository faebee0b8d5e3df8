// Reading a request body without ever holding more than the limit in memory, and without
// cancelling it: under workerd a cancelled request body breaks the next request on the connection.

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
 * Options of {@link readBodyLimited}.
 *
 * @example
 * ```ts
 * import type { ReadBodyOptions } from "registry-relay/hono";
 * const options: ReadBodyOptions = { drainBytes: 8 * 1024 * 1024 };
 * ```
 */
export interface ReadBodyOptions {
  /**
   * After a body without `Content-Length` passes the limit, read and discard up to this many
   * more bytes before giving up (default 0: stop at once). A connection whose request body was
   * partly read cannot carry another request: workerd closes it, and under `wrangler dev` the
   * next request on it fails. A body drained to its end leaves the connection usable.
   */
  drainBytes?: number;
}

/** Reads and throws away up to `bytes` more of a refused body; it never cancels it. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, bytes: number) {
  let discarded = 0;
  try {
    while (discarded < bytes) {
      const { done, value } = await reader.read();
      if (done) break;
      discarded += value.byteLength;
    }
  } catch {
    // The sender gave up; nothing is left to keep.
  } finally {
    reader.releaseLock();
  }
}

/**
 * Reads a request body into one `Uint8Array`, counting bytes as they arrive, and throws
 * {@link BodyTooLargeError} past `maxBytes`: at once, without touching the body, when
 * `Content-Length` is over the limit (the runtime discards an unread body and keeps the
 * connection), otherwise as soon as the running count passes it, after draining up to
 * `drainBytes` more. It never cancels the body: under workerd (`wrangler dev`) a cancelled
 * request body breaks the next request on the same keep-alive connection.
 *
 * @example
 * ```ts
 * import { BodyTooLargeError, readBodyLimited } from "registry-relay/hono";
 * try {
 *   const bytes = await readBodyLimited(request, 1024 * 1024, { drainBytes: 8 * 1024 * 1024 });
 * } catch (error) {
 *   if (error instanceof BodyTooLargeError) console.log(error.limit); // 1048576
 * }
 * ```
 */
export async function readBodyLimited(
  request: Request,
  maxBytes: number,
  options: ReadBodyOptions = {},
): Promise<Uint8Array> {
  const declared = request.headers.get("content-length")?.trim();
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
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
      await drain(reader, options.drainBytes ?? 0);
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
