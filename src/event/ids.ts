// Event ids and timestamps as distribution writes them: UUIDv4 (2.x) or UUIDv7 (3.1+), and
// RFC 3339 UTC with up to nine fraction digits (Go's time.RFC3339Nano). Web Crypto only.

/** The bytes of a UUID in its text form, with the variant bits (10) set. */
export function formatUuid(bytes: Uint8Array): string {
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  let hex = "";
  for (const byte of bytes) hex += (byte + 256).toString(16).slice(1);
  return hex.replace(/(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");
}

/**
 * A random (version 4) UUID, as distribution 2.x uses for event and request ids.
 *
 * @example
 * ```ts
 * import { uuidv4 } from "registry-relay/bridge";
 * uuidv4(); // "5b1b8c3e-1f7d-4a8e-9a52-0f2f4d4c1b7a"
 * ```
 */
export function uuidv4(): string {
  // randomUUID needs a secure context in browsers; getRandomValues works everywhere.
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
  return formatUuid(bytes);
}

// 2^48 - 1, as a literal: a computed constant would survive tree-shaking in esbuild.
const MAX_UNIX_MS = 281_474_976_710_655;

/** Monotonic state: the latest time asked for, the last millisecond written and its counter. */
interface Sequence {
  asked: number;
  ms: number;
  counter: number;
}
// The clock and explicit times keep separate sequences, so that an explicit (say future) time
// never drags the ids of the real clock along with it.
const clockSequence: Sequence = { asked: -1, ms: -1, counter: 0 };
const explicitSequence: Sequence = { asked: -1, ms: -1, counter: 0 };

/**
 * A time-ordered (version 7, RFC 9562) UUID, as distribution 3.1+ uses: 48-bit Unix
 * milliseconds, version 7, a 12-bit counter in `rand_a` (RFC 9562 §6.2 method 1, seeded at
 * random each millisecond) and 62 random bits. Ids from the clock are strictly increasing within
 * a process, also when the clock steps back or more than 2048 ids fall in one millisecond (the
 * timestamp then runs ahead by the needed milliseconds). Ids for explicit times are ordered the
 * same way while those times do not decrease; an earlier explicit time is honoured as given.
 *
 * @param now Unix time in milliseconds (integer, 0 to 2^48 − 1); defaults to `Date.now()`.
 * @throws RangeError if `now` is not such an integer.
 * @example
 * ```ts
 * import { uuidv7 } from "registry-relay/bridge";
 * uuidv7(); // "0190b7a2-3c1e-7a44-9d1b-2f0c9e5a7b31"
 * uuidv7(Date.UTC(2025, 0, 1)).slice(0, 13); // "01941f29-7c00"
 * ```
 */
export function uuidv7(now?: number): string {
  const asked = now ?? Date.now();
  if (!(Number.isInteger(asked) && asked >= 0 && asked <= MAX_UNIX_MS)) {
    throw new RangeError(
      `uuidv7: now must be an integer millisecond time in [0, 2^48), got ${now}`,
    );
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  // A fresh millisecond starts the counter at random in the lower half: increments rarely overflow.
  const seed = (((bytes[6] as number) << 8) | (bytes[7] as number)) & 0x7ff;
  const sequence = now === undefined ? clockSequence : explicitSequence;
  let ms = asked;
  let counter = seed;
  if (now === undefined || asked >= sequence.asked) {
    sequence.asked = Math.max(sequence.asked, asked);
    if (asked > sequence.ms) sequence.ms = asked;
    else {
      // Same millisecond, or the clock stepped back: continue after the last id.
      ms = sequence.ms;
      counter = sequence.counter + 1;
      if (counter > 0xfff) {
        ms = sequence.ms = Math.min(ms + 1, MAX_UNIX_MS);
        counter = seed;
      }
    }
    sequence.counter = counter;
  }
  // 48-bit big-endian milliseconds (arithmetic: bit operators work on 32 bits).
  for (let i = 5; i >= 0; i--, ms = Math.floor(ms / 256)) bytes[i] = ms % 256;
  bytes[6] = 0x70 | (counter >>> 8);
  bytes[7] = counter;
  return formatUuid(bytes);
}

// Sub-millisecond digits only while the high-resolution clock agrees with the wall clock: it may
// drift, or be coarsened or frozen as in Workers.
function preciseNow(): { ms: number; nanos: number } {
  const wall = Date.now();
  // Not in every runtime's type library (workers-types lacks it), hence the structural type.
  const perf = (globalThis as { performance?: { timeOrigin: number; now(): number } }).performance;
  if (perf !== undefined && perf.timeOrigin > 0) {
    const precise = perf.timeOrigin + perf.now();
    if (Math.abs(precise - wall) < 1) {
      const ms = Math.floor(precise);
      return { ms, nanos: Math.min(999_999, Math.round((precise - ms) * 1e6)) };
    }
  }
  return { ms: wall, nanos: 0 };
}

/**
 * Formats a time the way distribution's events carry it (Go `time.RFC3339Nano` in UTC): up to
 * nine fraction digits with trailing zeros trimmed (none for a whole second) and `Z`.
 *
 * - No arguments: the current time, with sub-millisecond digits from `performance.now()` when
 *   that clock agrees with `Date.now()`.
 * - `date` only: that instant at millisecond precision.
 * - `nanos`: the nanosecond-of-second (0 – 999 999 999), replacing the date's milliseconds.
 *
 * @throws RangeError for an invalid date, a year outside 0000–9999 (Go refuses to encode those)
 *   or `nanos` that is not an integer in range.
 * @example
 * ```ts
 * import { formatTimestamp } from "registry-relay/bridge";
 * formatTimestamp(new Date("2006-01-02T15:04:05Z")); // "2006-01-02T15:04:05Z"
 * formatTimestamp(new Date("2006-01-02T15:04:05Z"), 120_000); // "2006-01-02T15:04:05.00012Z"
 * formatTimestamp(); // "2026-11-27T17:19:34.297644813Z" (now)
 * ```
 */
export function formatTimestamp(date?: Date, nanos?: number): string {
  const now = date === undefined && nanos === undefined ? preciseNow() : undefined;
  const ms = now ? now.ms : (date ?? new Date()).getTime();
  if (Number.isNaN(ms)) throw new RangeError("formatTimestamp: invalid date");
  if (nanos !== undefined && (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999)) {
    throw new RangeError(`formatTimestamp: nanos must be an integer in [0, 1e9), got ${nanos}`);
  }
  const fraction = nanos ?? (((ms % 1000) + 1000) % 1000) * 1e6 + (now?.nanos ?? 0);
  const year = new Date(ms).getUTCFullYear();
  if (year < 0 || year > 9999) {
    throw new RangeError(`formatTimestamp: year ${year} is outside 0000-9999`);
  }
  let out = new Date(ms).toISOString().slice(0, 19);
  if (fraction > 0) out += `.${String(fraction).padStart(9, "0").replace(/0+$/, "")}`;
  return `${out}Z`;
}

const TIMESTAMP =
  /^\d{4}-\d{2}-\d{2}[Tt](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/**
 * Whether `value` is an RFC 3339 date-time as distribution writes it: 0 to 9 fraction digits,
 * `Z` or `±hh:mm`, a real calendar day, hours 00–23 and seconds 00–59 (Go's parser, and
 * `new Date()`, reject a leap second `:60`).
 *
 * @example
 * ```ts
 * import { isTimestamp } from "registry-relay";
 * isTimestamp("2006-01-02T15:04:05.999999999Z"); // true
 * isTimestamp("2006-02-30T15:04:05Z"); // false
 * ```
 */
export function isTimestamp(value: string): boolean {
  const year = +value.slice(0, 4);
  const month = +value.slice(5, 7);
  const day = +value.slice(8, 10);
  // Days past 28 in each month (out of range: NaN, which no day is below), and Feb 29 in leap
  // years: centuries are leap years when divisible by 400, other years by 4.
  const leap = month === 2 && year % (year % 100 ? 4 : 400) === 0;
  return (
    TIMESTAMP.test(value) && day > 0 && day <= 28 + +("303232332323"[month - 1] as string) + +leap
  );
}
