// The envelope's known fields, in distribution 2.x's struct order. One table drives both the
// validator (validate.ts: the rules of schema.ts) and the encoder (encode.ts: each wire line's
// key order).

/** Field kinds; kinds from REQUIRED on must be present. */
export const STRING = 0;
export const COUNT = 1; // a non-negative safe integer
export const STRINGS = 2; // an array of strings
export const MAP = 3; // an object of strings (a Go map: sorted when written)
export const OBJECT = 4;
export const OBJECTS = 5; // an array of objects
export const REQUIRED = 6; // a string that must be present
export const NON_EMPTY = 7; // a string that must be present and not ""
export const TIMESTAMP = 8; // an RFC 3339 string that must be present
export const REQUIRED_OBJECT = 9;

/** `[key, kind (default STRING), the fields of a nested object]`. */
export type Field = readonly [key: string, kind?: number, fields?: Fields];
export type Fields = readonly Field[];

const PLATFORM: Fields = [
  ["architecture", REQUIRED],
  ["os", REQUIRED],
  ["os.version"],
  ["os.features", STRINGS],
  ["variant"],
  ["features", STRINGS],
];
const DESCRIPTOR: Fields = [
  ["mediaType"],
  ["size", COUNT],
  ["digest"],
  ["urls", STRINGS],
  ["annotations", MAP],
  ["data"],
  ["platform", OBJECT, PLATFORM],
  ["artifactType"],
];

/** An event's fields. */
export const EVENT: Fields = [
  ["id", NON_EMPTY],
  ["timestamp", TIMESTAMP],
  ["action", NON_EMPTY],
  [
    "target",
    REQUIRED_OBJECT,
    [
      ...DESCRIPTOR,
      ["length", COUNT],
      ["repository", NON_EMPTY],
      ["fromRepository"],
      ["url"],
      ["tag"],
      ["references", OBJECTS, DESCRIPTOR],
    ],
  ],
  ["request", OBJECT, [["id"], ["addr"], ["host"], ["method"], ["useragent"]]],
  ["actor", OBJECT, [["name"]]],
  ["source", OBJECT, [["addr"], ["instanceID"]]],
];

/** What JSON.parse gives for an object. */
export type JsonObject = Record<string, unknown>;

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);
