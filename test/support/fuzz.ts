// A seeded mutator of envelope bodies, for fuzz tests: pure and runtime-agnostic (bytes and a
// seed in, bytes out; web-standard globals only), so every runtime and test derives the same
// mutants from the same seed. test/node/envelope-fuzz.test.ts runs it at scale in Node and
// test/worker/fuzz-ingest.test.ts posts a sample through the Worker.
import { prng } from "./prng.mjs";

/** The seed both fuzz tests use unless `FUZZ_SEED` says otherwise. */
export const DEFAULT_FUZZ_SEED = 0x5eed2026;

/** The kinds of mutation `mutate` applies (one to three per mutant). */
export const mutationKinds = [
  "flip", // flip bits of 1-4 bytes
  "bytes", // set 1-3 bytes to structural or non-ASCII values
  "truncate", // cut the body short
  "splice", // delete or repeat a run of bytes
  "swap", // replace a value (known field or not) by one of another type
  "deep", // add a deeply nested value (around the 64-level limit, or 1000, or 100k levels)
  "huge", // make a string (or an id) long: up to and past 1 MiB as encoded
  "escape", // insert an escape into a string: bad ones, controls, <>&, surrogates
  "utf8", // insert malformed UTF-8 (or a byte order mark)
  "duplicate", // repeat a key: "events" at the root (also spelled with escapes) or one of an event
  "surrogate", // a lone surrogate in a string value or key, escaped or raw
  "number", // an odd number: 1e400, -0, 1e-400, 1E2, 2^53 + 1, 21 digits
  "reformat", // the same value, compact or indented otherwise, keys reversed
] as const;

/** One kind of mutation. */
export type MutationKind = (typeof mutationKinds)[number];

/** A mutated body and the mutations that made it. */
export interface Mutant {
  bytes: Uint8Array;
  kinds: MutationKind[];
}

/** The seed of case `index` of a run seeded `seed` (so any case can be rebuilt alone). */
export function caseSeed(seed: number, index: number): number {
  let x = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** Case `index` of a run: a base body picked and mutated with `caseSeed(seed, index)`. */
export function fuzzCase(
  bases: readonly Uint8Array[],
  seed: number,
  index: number,
): Mutant & { base: number } {
  const own = caseSeed(seed, index);
  const base = own % bases.length;
  return { base, ...mutate(bases[base] as Uint8Array, own) };
}

const utf8 = new TextEncoder();
const lenient = new TextDecoder(); // U+FFFD for malformed bytes: text-level work only

type Random = ReturnType<typeof prng>;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const int = (random: Random, below: number): number => Math.floor(random() * below);
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)] as T;

/** Bytes spliced into text (`at` a byte offset), or the text's bytes when `at` is outside. */
function insert(bytes: Uint8Array, at: number, extra: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + extra.length);
  out.set(bytes.subarray(0, at));
  out.set(extra, at);
  out.set(bytes.subarray(at), at + extra.length);
  return out;
}

/** A byte offset just after an opening quote (inside a string, mostly), or anywhere. */
function inString(random: Random, bytes: Uint8Array): number {
  const quotes: number[] = [];
  for (let i = 0; i < bytes.length && quotes.length < 4096; i++) {
    if (bytes[i] === 0x22) quotes.push(i + 1);
  }
  return quotes.length > 0 ? pick(random, quotes) : int(random, bytes.length + 1);
}

type Container = Json[] | { [key: string]: Json };
/** A place in a parsed body: a key of an object or an index of an array. */
interface Slot {
  holder: Container;
  key: string | number;
}
const get = (slot: Slot): Json => (slot.holder as Record<string | number, Json>)[slot.key] as Json;
const set = (slot: Slot, item: Json): void => {
  (slot.holder as Record<string | number, Json>)[slot.key] = item;
};
const isContainer = (item: Json): item is Container => typeof item === "object" && item !== null;

/** Every key of every object and array inside `value`, breadth first, at most 2000. */
function slots(value: Json): Slot[] {
  const found: Slot[] = [];
  const queue: Json[] = [value];
  for (let q = 0; q < queue.length && found.length < 2000; q++) {
    const holder = queue[q] as Json;
    if (!isContainer(holder)) continue;
    for (const key of Object.keys(holder)) {
      const slot = { holder, key: Array.isArray(holder) ? Number(key) : key };
      found.push(slot);
      queue.push(get(slot));
    }
  }
  return found;
}

/** `value` and every object and array inside it. */
const containers = (value: Json): Container[] =>
  [value, ...slots(value).map(get)].filter(isContainer);

/** Raw JSON text to put where a marker string is (JSON.stringify cannot write these). */
class Raw {
  readonly markers = new Map<string, string>();
  /** A string value that `render` replaces by `text`. */
  mark(text: string): string {
    const marker = `\u0001raw${this.markers.size}\u0001`;
    this.markers.set(JSON.stringify(marker), text);
    return marker;
  }
  render(value: Json, random: Random): string {
    const indent = pick(random, [3, 3, 3, 0, 2, "\t"] as const);
    let text = JSON.stringify(value, null, indent);
    for (const [marker, raw] of this.markers) text = text.split(marker).join(raw);
    return text;
  }
}

/** `levels` of nesting, arrays and objects mixed, around a number. */
function nested(random: Random, levels: number): string {
  const mixed = random() < 0.5;
  let open = "";
  let close = "";
  for (let level = 0; level < levels; level++) {
    const object = mixed && level % 3 === 1;
    open += object ? '{"k":' : "[";
    close = (object ? "}" : "]") + close;
  }
  return `${open}1${close}`;
}

/** A string of `length` UTF-16 units from one of a few alphabets (ASCII, <>&, é, 😀, U+2028). */
function long(random: Random, length: number): string {
  const alphabet = pick(random, ["a", "<", "é", "😀", "\u2028", "ab<é&", "x\ny"]);
  const chunk = alphabet.repeat(Math.ceil(1024 / alphabet.length)).slice(0, 1024);
  const text = chunk.repeat(Math.ceil(length / 1024)).slice(0, length);
  // Do not end on half of a pair.
  return /[\ud800-\udbff]$/.test(text) ? `${text.slice(0, -1)}x` : text;
}

const odd: Json[] = [null, true, false, 0, -1, 1.5, 2 ** 53, "", "x", [], {}, ["x"], [1], { a: 1 }];
const oddNumbers = [
  "1e400",
  "-1e400",
  "-0",
  "1e-400",
  "1E2",
  "0.5e1",
  "9007199254740993",
  "123456789012345678901",
  "1.0",
];
const escapes = [
  "\\x",
  "\\u12G4",
  "\\u",
  "\\",
  "\\ud800",
  "\\udc00",
  "\\uDBFF\\u0041",
  "\\ud83d\\ude00",
  "\\u0000",
  "\\/",
  "\\b",
  "\\f",
  "\\u003c",
  "\\u2028",
  '\\"',
  "\\\\ud800",
];
const malformed = [
  [0xff],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
  [0xf0, 0x9f, 0x98],
];
const interesting = [0x00, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x20, 0x80, 0xff, 0xe9];

/** Structural mutations: on the parsed value, written back as JSON (undefined: not JSON now). */
function structural(kind: MutationKind, random: Random, bytes: Uint8Array): Uint8Array | undefined {
  let value: Json;
  try {
    value = JSON.parse(lenient.decode(bytes)) as Json;
  } catch {
    return undefined;
  }
  const raw = new Raw();
  const all = slots(value);
  const events = (value as { events?: unknown })?.events;
  const event = Array.isArray(events) && events.length > 0 ? events[0] : undefined;
  const eventObject =
    typeof event === "object" && event !== null && !Array.isArray(event)
      ? (event as { [key: string]: Json })
      : undefined;
  const strings = all.filter((slot) => typeof get(slot) === "string");
  switch (kind) {
    case "swap": {
      if (all.length === 0) return undefined;
      set(pick(random, all), structuredClone(pick(random, odd)));
      break;
    }
    case "deep": {
      const holders = containers(value);
      const holder = pick(random, holders);
      if (holder === undefined) return undefined;
      const levels =
        random() < 0.9
          ? 55 + int(random, 15)
          : random() < 0.8
            ? 66 + int(random, 1000)
            : pick(random, [1000, 100_000]);
      const text = raw.mark(nested(random, levels));
      if (Array.isArray(holder)) holder.push(text);
      else (holder as { [key: string]: Json })[`deep${int(random, 9)}`] = text;
      break;
    }
    case "huge": {
      // Mostly modest; some around the 1 MiB event limit (and the 1024-byte id limit); a few far.
      const roll = random();
      const length =
        roll < 0.97
          ? 1 + int(random, 5_000)
          : roll < 0.985
            ? 170_000 + int(random, 900_000)
            : 1_040_000 + int(random, 20_000) + (random() < 0.2 ? 2_000_000 : 0);
      if (eventObject && random() < 0.25) {
        eventObject.id = "i".repeat(1000 + int(random, 50));
        break;
      }
      const text = long(random, length);
      if (strings.length > 0 && random() < 0.7) set(pick(random, strings), text);
      else if (eventObject) eventObject.blob = text;
      else return undefined;
      break;
    }
    case "surrogate": {
      const lone = pick(random, ["\ud800", "\udfff", "\udbff\u0041", "a\udc00b"]);
      if (strings.length > 0 && random() < 0.6) {
        const slot = pick(random, strings);
        set(slot, `${get(slot)}${lone}`);
      } else {
        const holder = pick(random, containers(value));
        if (holder === undefined) return undefined;
        if (Array.isArray(holder)) holder.push(lone);
        else (holder as { [key: string]: Json })[`k${lone}`] = lone;
      }
      break;
    }
    case "number": {
      const numbers = all.filter((slot) => typeof get(slot) === "number");
      const slot = pick(random, numbers.length > 0 && random() < 0.7 ? numbers : all);
      if (slot === undefined) return undefined;
      set(slot, raw.mark(pick(random, oddNumbers)));
      break;
    }
    case "reformat": {
      if (random() < 0.5) {
        for (const holder of containers(value)) {
          if (Array.isArray(holder)) continue;
          const entries = Object.entries(holder).reverse();
          for (const [key] of entries) delete holder[key];
          for (const [key, item] of entries) holder[key] = item;
        }
      }
      break;
    }
    default:
      return undefined;
  }
  try {
    return utf8.encode(raw.render(value, random));
  } catch {
    return undefined; // JSON.stringify recurses: 100k levels from an earlier mutation are too many
  }
}

/** Text and byte mutations. */
function textual(kind: MutationKind, random: Random, bytes: Uint8Array): Uint8Array {
  switch (kind) {
    case "flip": {
      const out = bytes.slice();
      for (let n = 1 + int(random, 4); n > 0 && out.length > 0; n--) {
        const at = int(random, out.length);
        out[at] = (out[at] as number) ^ (1 << int(random, 8));
      }
      return out;
    }
    case "bytes": {
      const out = bytes.slice();
      for (let n = 1 + int(random, 3); n > 0 && out.length > 0; n--) {
        out[int(random, out.length)] = pick(random, interesting);
      }
      return out;
    }
    case "truncate":
      return bytes.slice(0, int(random, bytes.length));
    case "splice": {
      const from = int(random, bytes.length + 1);
      const to = Math.min(bytes.length, from + 1 + int(random, 24));
      if (random() < 0.5) return insert(bytes.slice(0, from), from, bytes.subarray(to));
      return insert(bytes, int(random, bytes.length + 1), bytes.slice(from, to));
    }
    case "escape":
      return insert(bytes, inString(random, bytes), utf8.encode(pick(random, escapes)));
    case "utf8": {
      if (random() < 0.15) return insert(bytes, 0, new Uint8Array([0xef, 0xbb, 0xbf]));
      const at = random() < 0.7 ? inString(random, bytes) : int(random, bytes.length + 1);
      return insert(bytes, at, new Uint8Array(pick(random, malformed)));
    }
    case "duplicate": {
      const text = lenient.decode(bytes);
      const roll = random();
      if (roll < 0.5) {
        // A second "events" at the root, before or after the first, maybe spelled with escapes.
        const spelled = pick(random, ['"events"', '"\\u0065vents"', '"even\\u0074s"', '"events"']);
        const extra = `${spelled}: ${pick(random, ["[]", '[{"id":"x"}]', "null", "{}"])}`;
        const open = text.indexOf("{");
        const close = text.lastIndexOf("}");
        if (open === -1) return bytes;
        return utf8.encode(
          random() < 0.5
            ? `${text.slice(0, open + 1)}${extra},${text.slice(open + 1)}`
            : `${text.slice(0, close)},${extra}${text.slice(close)}`,
        );
      }
      // A key of an event twice: the later one wins, as in Go.
      const key = pick(random, ['"id"', '"action"', '"target"', '"repository"', '"timestamp"']);
      const at = text.indexOf(key);
      if (at === -1) return bytes;
      const value = pick(random, ['"dup"', '""', "1", '{"repository":"r"}', "null"]);
      return utf8.encode(`${text.slice(0, at)}${key}: ${value},${text.slice(at)}`);
    }
    case "surrogate":
      return insert(bytes, inString(random, bytes), utf8.encode(pick(random, escapes.slice(4, 8))));
    default:
      return bytes;
  }
}

/**
 * `input` with one to three mutations, chosen and placed by `seed`: the same input and seed give
 * the same bytes in every runtime.
 */
export function mutate(input: Uint8Array, seed: number): Mutant {
  const random = prng(seed);
  const kinds: MutationKind[] = [];
  let bytes = input;
  for (let n = 1 + (random() < 0.3 ? int(random, 3) : 0); n > 0; n--) {
    const kind = pick(random, mutationKinds);
    kinds.push(kind);
    bytes = structural(kind, random, bytes) ?? textual(kind, random, bytes);
  }
  return { bytes, kinds };
}
