import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { EventsMediaType, EventsMediaTypeV2 } from "../../src/event/constants.ts";
import {
  EnvelopeError,
  type EnvelopeIssue,
  encodeEnvelope,
  MAX_EVENT_BYTES,
  MAX_EVENT_KEY_BYTES,
  MAX_JSON_DEPTH,
  parseEnvelope,
  safeParseEnvelope,
} from "../../src/event/envelope.ts";
import { type Envelope, EnvelopeSchema, type Event } from "../../src/event/schema.ts";
import { type Fixture, loadFixtures } from "../support/env.ts";
import { specTagDeleteV3 } from "../support/golden.ts";

// Golden bodies are written by hand from distribution's notifications/event_test.go
// (TestEventEnvelopeJSONFormat): v2.8 (schema1 manifest, mediaType/size/digest order) and v3
// (schema2 manifest, mediaType/digest/size order). Not produced by our encoder.
const goldenV1 = `{
   "events": [
      {
         "id": "asdf-asdf-asdf-asdf-0",
         "timestamp": "2006-01-02T15:04:05Z",
         "action": "push",
         "target": {
            "mediaType": "application/vnd.docker.distribution.manifest.v1+prettyjws",
            "size": 1,
            "digest": "sha256:0123456789abcdef0",
            "length": 1,
            "repository": "library/test",
            "url": "http://example.com/v2/library/test/manifests/latest"
         },
         "request": {
            "id": "asdfasdf",
            "addr": "client.local",
            "host": "registrycluster.local",
            "method": "PUT",
            "useragent": "test/0.1"
         },
         "actor": {
            "name": "test-actor"
         },
         "source": {
            "addr": "hostname.local:port"
         }
      },
      {
         "id": "asdf-asdf-asdf-asdf-1",
         "timestamp": "2006-01-02T15:04:05Z",
         "action": "push",
         "target": {
            "mediaType": "application/vnd.docker.container.image.rootfs.diff+x-gtar",
            "size": 2,
            "digest": "sha256:3b3692957d439ac1928219a83fac91e7bf96c153725526874673ae1f2023f8d5",
            "length": 2,
            "repository": "library/test",
            "url": "http://example.com/v2/library/test/manifests/latest"
         },
         "request": {
            "id": "asdfasdf",
            "addr": "client.local",
            "host": "registrycluster.local",
            "method": "PUT",
            "useragent": "test/0.1"
         },
         "actor": {
            "name": "test-actor"
         },
         "source": {
            "addr": "hostname.local:port"
         }
      },
      {
         "id": "asdf-asdf-asdf-asdf-2",
         "timestamp": "2006-01-02T15:04:05Z",
         "action": "push",
         "target": {
            "mediaType": "application/vnd.docker.container.image.rootfs.diff+x-gtar",
            "size": 3,
            "digest": "sha256:3b3692957d439ac1928219a83fac91e7bf96c153725526874673ae1f2023f8d6",
            "length": 3,
            "repository": "library/test",
            "url": "http://example.com/v2/library/test/manifests/latest"
         },
         "request": {
            "id": "asdfasdf",
            "addr": "client.local",
            "host": "registrycluster.local",
            "method": "PUT",
            "useragent": "test/0.1"
         },
         "actor": {
            "name": "test-actor"
         },
         "source": {
            "addr": "hostname.local:port"
         }
      }
   ]
}`;

const goldenV3 = `{
   "events": [
      {
         "id": "asdf-asdf-asdf-asdf-0",
         "timestamp": "2006-01-02T15:04:05Z",
         "action": "push",
         "target": {
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "digest": "sha256:0123456789abcdef0",
            "size": 1,
            "length": 1,
            "repository": "library/test",
            "url": "http://example.com/v2/library/test/manifests/latest"
         },
         "request": {
            "id": "asdfasdf",
            "addr": "client.local",
            "host": "registrycluster.local",
            "method": "PUT",
            "useragent": "test/0.1"
         },
         "actor": {
            "name": "test-actor"
         },
         "source": {
            "addr": "hostname.local:port"
         }
      },
      {
         "id": "asdf-asdf-asdf-asdf-1",
         "timestamp": "2006-01-02T15:04:05Z",
         "action": "push",
         "target": {
            "mediaType": "application/vnd.docker.container.image.rootfs.diff+x-gtar",
            "digest": "sha256:3b3692957d439ac1928219a83fac91e7bf96c153725526874673ae1f2023f8d5",
            "size": 2,
            "length": 2,
            "repository": "library/test",
            "url": "http://example.com/v2/library/test/manifests/latest"
         },
         "request": {
            "id": "asdfasdf",
            "addr": "client.local",
            "host": "registrycluster.local",
            "method": "PUT",
            "useragent": "test/0.1"
         },
         "actor": {
            "name": "test-actor"
         },
         "source": {
            "addr": "hostname.local:port"
         }
      },
      {
         "id": "asdf-asdf-asdf-asdf-2",
         "timestamp": "2006-01-02T15:04:05Z",
         "action": "push",
         "target": {
            "mediaType": "application/vnd.docker.container.image.rootfs.diff+x-gtar",
            "digest": "sha256:3b3692957d439ac1928219a83fac91e7bf96c153725526874673ae1f2023f8d6",
            "size": 3,
            "length": 3,
            "repository": "library/test",
            "url": "http://example.com/v2/library/test/manifests/latest"
         },
         "request": {
            "id": "asdfasdf",
            "addr": "client.local",
            "host": "registrycluster.local",
            "method": "PUT",
            "useragent": "test/0.1"
         },
         "actor": {
            "name": "test-actor"
         },
         "source": {
            "addr": "hostname.local:port"
         }
      }
   ]
}`;

/** The Go test's three events, with fields set in the Go test's (not the wire's) order. */
function goEnvelope(manifestMediaType: string): Envelope {
  const prototype = (id: string, target: Event["target"]): Event => ({
    request: {
      useragent: "test/0.1",
      method: "PUT",
      host: "registrycluster.local",
      addr: "client.local",
      id: "asdfasdf",
    },
    source: { addr: "hostname.local:port" },
    actor: { name: "test-actor" },
    target,
    action: "push",
    timestamp: "2006-01-02T15:04:05Z",
    id,
  });
  const layer = "application/vnd.docker.container.image.rootfs.diff+x-gtar";
  const url = "http://example.com/v2/library/test/manifests/latest";
  const digest = "sha256:3b3692957d439ac1928219a83fac91e7bf96c153725526874673ae1f2023f8d";
  return {
    events: [
      prototype("asdf-asdf-asdf-asdf-0", {
        digest: "sha256:0123456789abcdef0",
        length: 1,
        size: 1,
        mediaType: manifestMediaType,
        repository: "library/test",
        url,
      }),
      prototype("asdf-asdf-asdf-asdf-1", {
        url,
        repository: "library/test",
        mediaType: layer,
        size: 2,
        length: 2,
        digest: `${digest}5`,
      }),
      prototype("asdf-asdf-asdf-asdf-2", {
        repository: "library/test",
        length: 3,
        digest: `${digest}6`,
        size: 3,
        mediaType: layer,
        url,
      }),
    ],
  };
}

/** Formats a key path the way issues do: `a.b[0]["os.version"]`. */
function pathOf(keys: readonly (string | number)[]): string {
  let out = "";
  for (const key of keys) {
    if (typeof key === "number") out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

function issuesOf(body: unknown): EnvelopeIssue[] {
  const result = safeParseEnvelope(body);
  assert.equal(result.success, false, "expected a rejection");
  return result.success ? [] : result.issues;
}

/** A body of one event with `patch` applied to a valid event (undefined deletes a key). */
function oneEvent(patch: (event: Record<string, unknown>) => void): string {
  const event: Record<string, unknown> = {
    id: "e1",
    timestamp: "2024-05-02T10:15:04.123456789Z",
    action: "push",
    target: { repository: "library/alpine" },
  };
  patch(event);
  return JSON.stringify({ events: [event] });
}

const validate = (value: unknown): boolean => {
  const result = EnvelopeSchema["~standard"].validate(value);
  assert.ok(!(result instanceof Promise));
  return result.issues === undefined;
};

describe("encodeEnvelope: Go's MarshalIndent byte for byte", () => {
  it("TestEventEnvelopeJSONFormat, v2.8 line (EventsMediaType, the default)", () => {
    const envelope = goEnvelope("application/vnd.docker.distribution.manifest.v1+prettyjws");
    assert.equal(encodeEnvelope(envelope), goldenV1);
    assert.equal(encodeEnvelope(envelope, { mediaType: EventsMediaType }), goldenV1);
  });

  it("TestEventEnvelopeJSONFormat, v3 line (EventsMediaTypeV2 key order)", () => {
    const envelope = goEnvelope("application/vnd.docker.distribution.manifest.v2+json");
    assert.equal(encodeEnvelope(envelope, { mediaType: EventsMediaTypeV2 }), goldenV3);
  });

  it("v3 always writes mediaType, digest and size, also on delete events", () => {
    const envelope: Envelope = {
      events: [
        {
          id: "0190b7a2-3c1e-7a44-9d1b-2f0c9e5a7b31",
          timestamp: "2025-07-01T12:00:00.123456Z",
          action: "delete",
          target: { tag: "latest", repository: "library/test" },
          request: {
            id: "r",
            addr: "10.0.0.7",
            host: "reg:5000",
            method: "DELETE",
            useragent: "curl/8.5.0",
          },
          actor: {},
          source: { addr: "reg-0:5000", instanceID: "i" },
        },
      ],
    };
    const expected = specTagDeleteV3(
      "0190b7a2-3c1e-7a44-9d1b-2f0c9e5a7b31",
      "2025-07-01T12:00:00.123456Z",
    );
    assert.equal(encodeEnvelope(envelope, { mediaType: EventsMediaTypeV2 }), expected);
    // The v2.x line leaves absent keys out (all omitempty).
    const v1 = encodeEnvelope(envelope);
    assert.ok(!v1.includes('"mediaType"') && !v1.includes('"size"'));
    assert.ok(
      v1.includes(
        `"target": {\n            "repository": "library/test",\n            "tag": "latest"\n         },`,
      ),
    );
  });

  it("writes every target, reference and platform key in the line's order", () => {
    const target = {
      references: [
        {
          platform: {
            features: ["f"],
            variant: "v8",
            "os.features": ["x"],
            "os.version": "10",
            os: "linux",
            architecture: "arm64",
          },
          artifactType: "application/x-art",
          data: "e30=",
          annotations: { b: "2", a: "1" },
          urls: ["https://u.example/1"],
          size: 7,
          digest: "sha256:aa",
          mediaType: "application/vnd.oci.image.manifest.v1+json",
        },
      ],
      tag: "v1",
      url: "https://r.example/v2/team/app/manifests/sha256:bb",
      fromRepository: "library/base",
      repository: "team/app",
      length: 9,
      artifactType: "application/x-target",
      platform: { os: "linux", architecture: "amd64" },
      data: "",
      annotations: {},
      urls: [],
      digest: "sha256:bb",
      size: 9,
      mediaType: "application/vnd.oci.image.index.v1+json",
    };
    const envelope = {
      events: [{ id: "i", timestamp: "2024-01-01T00:00:00Z", action: "push", target }],
    };
    const v1 = `{
   "events": [
      {
         "id": "i",
         "timestamp": "2024-01-01T00:00:00Z",
         "action": "push",
         "target": {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "size": 9,
            "digest": "sha256:bb",
            "urls": [],
            "annotations": {},
            "platform": {
               "architecture": "amd64",
               "os": "linux"
            },
            "length": 9,
            "repository": "team/app",
            "fromRepository": "library/base",
            "url": "https://r.example/v2/team/app/manifests/sha256:bb",
            "tag": "v1",
            "references": [
               {
                  "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "size": 7,
                  "digest": "sha256:aa",
                  "urls": [
                     "https://u.example/1"
                  ],
                  "annotations": {
                     "a": "1",
                     "b": "2"
                  },
                  "platform": {
                     "architecture": "arm64",
                     "os": "linux",
                     "os.version": "10",
                     "os.features": [
                        "x"
                     ],
                     "variant": "v8",
                     "features": [
                        "f"
                     ]
                  },
                  "artifactType": "application/x-art",
                  "data": "e30="
               }
            ],
            "artifactType": "application/x-target",
            "data": ""
         }
      }
   ]
}`;
    assert.equal(encodeEnvelope(envelope as Envelope), v1);
    const v2 = `{
   "events": [
      {
         "id": "i",
         "timestamp": "2024-01-01T00:00:00Z",
         "action": "push",
         "target": {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": "sha256:bb",
            "size": 9,
            "urls": [],
            "annotations": {},
            "data": "",
            "platform": {
               "architecture": "amd64",
               "os": "linux"
            },
            "artifactType": "application/x-target",
            "length": 9,
            "repository": "team/app",
            "fromRepository": "library/base",
            "url": "https://r.example/v2/team/app/manifests/sha256:bb",
            "tag": "v1",
            "references": [
               {
                  "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "digest": "sha256:aa",
                  "size": 7,
                  "urls": [
                     "https://u.example/1"
                  ],
                  "annotations": {
                     "a": "1",
                     "b": "2"
                  },
                  "data": "e30=",
                  "platform": {
                     "architecture": "arm64",
                     "os": "linux",
                     "os.version": "10",
                     "os.features": [
                        "x"
                     ],
                     "variant": "v8",
                     "features": [
                        "f"
                     ]
                  },
                  "artifactType": "application/x-art"
               }
            ]
         }
      }
   ]
}`;
    assert.equal(encodeEnvelope(envelope as Envelope, { mediaType: EventsMediaTypeV2 }), v2);
  });

  it("v3 fills mediaType, digest and size of references too", () => {
    const envelope = {
      events: [
        {
          id: "i",
          timestamp: "2024-01-01T00:00:00Z",
          action: "pull",
          target: { repository: "r", references: [{}] },
        },
      ],
    } as Envelope;
    const expected = `{
   "events": [
      {
         "id": "i",
         "timestamp": "2024-01-01T00:00:00Z",
         "action": "pull",
         "target": {
            "mediaType": "",
            "digest": "",
            "size": 0,
            "repository": "r",
            "references": [
               {
                  "mediaType": "",
                  "digest": "",
                  "size": 0
               }
            ]
         }
      }
   ]
}`;
    assert.equal(encodeEnvelope(envelope, { mediaType: EventsMediaTypeV2 }), expected);
  });

  it("escapes strings like Go: <, >, &, U+2028, U+2029, controls, quotes, backslashes", () => {
    const tag = 'a<b>&c\u2028\u2029"\\/\n\r\t\b\f\u0000\u001f\u007fé😀\ud800z\udc00';
    const envelope = {
      events: [
        {
          id: "<id>",
          timestamp: "2024-01-01T00:00:00Z",
          action: "push",
          target: { repository: "r", tag },
        },
      ],
      "k<&>": "\u2028",
    } as Envelope;
    const expected =
      String.raw`{
   "events": [
      {
         "id": "\u003cid\u003e",
         "timestamp": "2024-01-01T00:00:00Z",
         "action": "push",
         "target": {
            "repository": "r",
            "tag": "a\u003cb\u003e\u0026c\u2028\u2029\"\\/\n\r\t\u0008\u000c\u0000\u001f` +
      "\u007fé😀" +
      String.raw`\ufffdz\ufffd"
         }
      }
   ],
   "k\u003c\u0026\u003e": "\u2028"
}`;
    assert.equal(encodeEnvelope(envelope), expected);
    // Escaped text is still the same JSON value (lone surrogates excepted: Go writes U+FFFD).
    const back = JSON.parse(encodeEnvelope({ events: [], s: "x<y>&\u2028\u0001" } as Envelope));
    assert.equal(back.s, "x<y>&\u2028\u0001");
  });

  it("prints empty objects and arrays compactly and follows presence for events", () => {
    assert.equal(encodeEnvelope({} as Envelope), "{}");
    assert.equal(encodeEnvelope({ events: [] }), '{\n   "events": []\n}');
    assert.equal(encodeEnvelope({ events: undefined } as unknown as Envelope), "{}");
    const envelope = {
      events: [
        {
          id: "i",
          timestamp: "2024-01-01T00:00:00Z",
          action: "pull",
          target: { repository: "r" },
          actor: {},
          source: {},
          request: {},
          x: [],
          y: {},
          z: [{}, []],
        },
      ],
    } as Envelope;
    const expected = `{
   "events": [
      {
         "id": "i",
         "timestamp": "2024-01-01T00:00:00Z",
         "action": "pull",
         "target": {
            "repository": "r"
         },
         "request": {},
         "actor": {},
         "source": {},
         "x": [],
         "y": {},
         "z": [
            {},
            []
         ]
      }
   ]
}`;
    assert.equal(encodeEnvelope(envelope), expected);
  });

  it("keeps unknown keys after the known ones, in their own order, at every level", () => {
    const envelope = {
      zeta: 1,
      events: [
        {
          extra: { b: [1, 2.5, -3e-7, true, false, null], a: "x" },
          target: {
            later: 1,
            repository: "r",
            platform: { more: "p", os: "linux", architecture: "amd64" },
          },
          action: "pull",
          timestamp: "2024-01-01T00:00:00Z",
          id: "i",
          source: { region: "eu", addr: "a" },
        },
      ],
      alpha: "last",
    } as unknown as Envelope;
    const expected = `{
   "events": [
      {
         "id": "i",
         "timestamp": "2024-01-01T00:00:00Z",
         "action": "pull",
         "target": {
            "platform": {
               "architecture": "amd64",
               "os": "linux",
               "more": "p"
            },
            "repository": "r",
            "later": 1
         },
         "source": {
            "addr": "a",
            "region": "eu"
         },
         "extra": {
            "b": [
               1,
               2.5,
               -3e-7,
               true,
               false,
               null
            ],
            "a": "x"
         }
      }
   ],
   "zeta": 1,
   "alpha": "last"
}`;
    assert.equal(encodeEnvelope(envelope), expected);
  });

  it("writes numbers as Go does (shortest form, same exponent cut-offs, -0)", () => {
    const text = `{
   "events": [],
   "n": [
      0,
      -0,
      1,
      1.5,
      1e+21,
      1e-7,
      123456789012345,
      0.000001
   ]
}`;
    const input = text.replace("1e+21", "1E21").replace("1.5", "1.50").replace("0.000001", "1e-6");
    assert.equal(encodeEnvelope(parseEnvelope(input)), text);
  });

  it("sorts annotations like a Go map (by UTF-8 bytes)", () => {
    const envelope = {
      events: [
        {
          id: "i",
          timestamp: "2024-01-01T00:00:00Z",
          action: "push",
          target: {
            repository: "r",
            annotations: { "\u{1F600}": "4", "\uFF5E": "3", b: "2", B: "1", a: "0" },
          },
        },
      ],
    } as Envelope;
    const text = encodeEnvelope(envelope);
    const keys = Object.keys(JSON.parse(text).events[0].target.annotations);
    assert.deepEqual(keys, ["B", "a", "b", "\uFF5E", "\u{1F600}"]);
  });

  it("calls toJSON, skips functions and symbols, and names the path of unencodable values", () => {
    const base = {
      id: "i",
      timestamp: "2024-01-01T00:00:00Z",
      action: "push",
      target: { repository: "r" },
    };
    const withDate = {
      events: [{ ...base, at: new Date(0), f: () => 1, s: Symbol("s") }],
    } as unknown as Envelope;
    assert.ok(encodeEnvelope(withDate).includes('"at": "1970-01-01T00:00:00.000Z"\n'));
    assert.ok(!encodeEnvelope(withDate).includes('"f"'));
    const nan = {
      events: [{ ...base, target: { repository: "r", score: Number.NaN } }],
    } as unknown as Envelope;
    assert.throws(() => encodeEnvelope(nan), {
      name: "TypeError",
      message: "encodeEnvelope: events[0].target.score: NaN is not a JSON number",
    });
    const big = { events: [{ ...base, "odd key": [1, 10n] }] } as unknown as Envelope;
    assert.throws(() => encodeEnvelope(big), {
      name: "TypeError",
      message: 'encodeEnvelope: events[0]["odd key"][1]: a bigint cannot be written as JSON',
    });
  });
});

describe("parseEnvelope + encodeEnvelope over the captured distribution 2.8.2 bodies", () => {
  let fixtures: Fixture[] = [];
  before(async () => {
    fixtures = await loadFixtures();
  });

  it("re-encodes every fixture byte for byte from string, Uint8Array, ArrayBuffer and parsed input", () => {
    assert.equal(fixtures.length, 79);
    for (const fixture of fixtures) {
      const fromText = parseEnvelope(fixture.text);
      assert.equal(encodeEnvelope(fromText), fixture.text, fixture.name);
      assert.equal(encodeEnvelope(parseEnvelope(fixture.bytes)), fixture.text, fixture.name);
      const buffer = fixture.bytes.slice().buffer;
      assert.equal(encodeEnvelope(parseEnvelope(buffer)), fixture.text, fixture.name);
      const value = JSON.parse(fixture.text);
      assert.equal(parseEnvelope(value), value, "a parsed value is validated in place");
      assert.equal(encodeEnvelope(parseEnvelope(value)), fixture.text, fixture.name);
      assert.equal(encodeEnvelope(fromText, { mediaType: EventsMediaType }), fixture.text);
      assert.ok(validate(value), `${fixture.name} passes EnvelopeSchema too`);
    }
  });

  it("converts every fixture to the v3 line and back without loss", () => {
    for (const fixture of fixtures) {
      const v3 = encodeEnvelope(parseEnvelope(fixture.text), { mediaType: EventsMediaTypeV2 });
      assert.match(
        v3,
        /"target": \{\n {12}"mediaType": [^\n]*\n {12}"digest": [^\n]*\n {12}"size": /,
      );
      const v3Value = JSON.parse(v3);
      assert.equal(encodeEnvelope(parseEnvelope(v3), { mediaType: EventsMediaTypeV2 }), v3);
      // Deletes gain "" / 0 defaults on v3; everything else is the same data.
      const event = v3Value.events[0];
      if (event.action !== "delete") {
        assert.equal(encodeEnvelope(v3Value), fixture.text, fixture.name);
      } else {
        assert.equal(typeof event.target.size, "number");
      }
    }
  });

  it('accepts the v3 line\'s delete shape (mediaType "", digest "", size 0)', () => {
    const text = `{
   "events": [
      {
         "id": "0190b7a2-3c1e-7a44-9d1b-2f0c9e5a7b31",
         "timestamp": "2025-07-01T12:00:00.123456Z",
         "action": "delete",
         "target": {
            "mediaType": "",
            "digest": "",
            "size": 0,
            "repository": "library/test",
            "tag": "latest"
         },
         "request": {
            "id": "r",
            "method": "DELETE",
            "useragent": "curl/8.5.0"
         },
         "actor": {},
         "source": {
            "addr": "reg-0:5000"
         }
      }
   ]
}`;
    const envelope = parseEnvelope(text);
    assert.equal(envelope.events[0]?.target.size, 0);
    assert.equal(encodeEnvelope(envelope, { mediaType: EventsMediaTypeV2 }), text);
  });

  it("keeps unknown fields at every level through a round trip", () => {
    const text = `{
   "events": [
      {
         "id": "e",
         "timestamp": "2024-05-02T10:15:04+02:00",
         "action": "promote",
         "target": {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "size": 2,
            "digest": "sha256:cc",
            "length": 2,
            "repository": "team/app",
            "url": "https://r/v2/team/app/manifests/sha256:cc",
            "references": [
               {
                  "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "size": 1,
                  "digest": "sha256:dd",
                  "platform": {
                     "architecture": "riscv64",
                     "os": "linux",
                     "abi": "lp64d"
                  },
                  "subject": {
                     "digest": "sha256:ee"
                  }
               }
            ],
            "signature": "sig",
            "constructor": "kept",
            "__proto__": "kept too"
         },
         "request": {
            "id": "r",
            "method": "PUT",
            "useragent": "u",
            "traceparent": "00-abc-01"
         },
         "actor": {
            "name": "alice",
            "groups": [
               "dev"
            ]
         },
         "source": {
            "addr": "a",
            "region": "eu-1"
         },
         "schemaVersion": 4
      }
   ],
   "batch": {
      "n": 1
   }
}`;
    const envelope = parseEnvelope(text);
    assert.equal((envelope.events[0]!.target as Record<string, unknown>).constructor, "kept");
    assert.equal(encodeEnvelope(envelope), text);
  });

  it("drops a UTF-8 byte order mark (RFC 8259 §8.1) from text and bytes", () => {
    const [fixture] = fixtures;
    assert.ok(fixture);
    assert.equal(encodeEnvelope(parseEnvelope(`\uFEFF${fixture.text}`)), fixture.text);
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...fixture.bytes]);
    assert.equal(encodeEnvelope(parseEnvelope(bytes)), fixture.text);
  });

  it("accepts timestamps with 0 to 9 fraction digits and any offset", () => {
    const accepted = [
      "2006-01-02T15:04:05Z",
      "2006-01-02T15:04:05.1Z",
      "2006-01-02T15:04:05.12Z",
      "2006-01-02T15:04:05.123Z",
      "2006-01-02T15:04:05.1234Z",
      "2006-01-02T15:04:05.12345Z",
      "2006-01-02T15:04:05.123456Z",
      "2006-01-02T15:04:05.1234567Z",
      "2006-01-02T15:04:05.12345678Z",
      "2006-01-02T15:04:05.123456789Z",
      "2006-01-02T15:04:05.000000000Z",
      "2006-01-02T15:04:05+00:00",
      "2006-01-02T15:04:05-07:00",
      "2006-01-02T15:04:05.5+05:30",
      "2006-01-02T15:04:05.999999999-23:59",
      "2006-01-02t15:04:05z",
      "2024-02-29T23:59:59Z",
      "2000-02-29T00:00:00Z",
      "0001-01-01T00:00:00Z",
    ];
    for (const timestamp of accepted) {
      const result = safeParseEnvelope(
        oneEvent((e) => {
          e.timestamp = timestamp;
        }),
      );
      assert.ok(result.success, timestamp);
      assert.equal(result.envelope.events[0]?.timestamp, timestamp, "kept as written");
    }
    const rejected = [
      "2006-01-02T15:04:05.1234567890Z",
      "2006-01-02T15:04:05.Z",
      "2006-01-02T15:04:05",
      "2006-01-02 15:04:05Z",
      "2006-01-02T15:04Z",
      "2006-1-02T15:04:05Z",
      "2023-02-29T00:00:00Z",
      "1900-02-29T00:00:00Z",
      "2006-04-31T00:00:00Z",
      "2006-13-01T00:00:00Z",
      "2006-00-01T00:00:00Z",
      "2006-01-00T00:00:00Z",
      "2006-01-02T24:00:00Z",
      "2006-01-02T15:60:00Z",
      "2006-01-02T15:04:60Z",
      "2006-01-02T15:04:05+24:00",
      "2006-01-02T15:04:05+0700",
      "2006-01-02T15:04:05Z ",
      "",
    ];
    for (const timestamp of rejected) {
      assert.deepEqual(
        issuesOf(
          oneEvent((e) => {
            e.timestamp = timestamp;
          }),
        ),
        [
          {
            path: "events[0].timestamp",
            message: "must be an RFC 3339 timestamp such as 2006-01-02T15:04:05.999999999Z",
          },
        ],
        timestamp,
      );
      assert.equal(
        validate(
          JSON.parse(
            oneEvent((e) => {
              e.timestamp = timestamp;
            }),
          ),
        ),
        false,
        timestamp,
      );
    }
  });
});

describe("parseEnvelope rejections: exact path and message", () => {
  it("names invalid UTF-8 and where it starts", () => {
    const prefix = [...new TextEncoder().encode('{"events":[],"x":"')];
    const cases: [number[], number][] = [
      [[0xff], prefix.length],
      [[0xc0, 0xaf], prefix.length], // overlong "/"
      [[0xed, 0xa0, 0x80], prefix.length], // an encoded surrogate
      [[0x41, 0xe2, 0x82], prefix.length + 1], // truncated "€"
      [[0xf4, 0x90, 0x80, 0x80], prefix.length], // above U+10FFFF
    ];
    for (const [bad, at] of cases) {
      const bytes = new Uint8Array([...prefix, ...bad, 0x22, 0x7d]);
      assert.deepEqual(issuesOf(bytes), [
        { path: "", message: `body is not valid UTF-8 (malformed sequence at byte ${at})` },
      ]);
      assert.deepEqual(issuesOf(bytes.buffer), [
        { path: "", message: `body is not valid UTF-8 (malformed sequence at byte ${at})` },
      ]);
    }
  });

  it("locates JSON syntax errors with line, column and position", () => {
    const cases: [string, string][] = [
      [
        '{"events": [}',
        `unexpected character "}" where a value was expected (line 1, column 13, position 12)`,
      ],
      [
        '{"events": [',
        "unexpected end of input where a value was expected (line 1, column 13, position 12)",
      ],
      ['{"events": "abc', "unterminated string (line 1, column 12, position 11)"],
      [
        '{"events": []} x',
        `unexpected character "x" after a value (line 1, column 16, position 15)`,
      ],
      [
        '{\n   "events": [\n      {"id": 1,}\n   ]\n}',
        `unexpected character "}" where a string key was expected (line 3, column 16, position 32)`,
      ],
      ['{"events" []}', `unexpected character "[" after a key (line 1, column 11, position 10)`],
      [
        "{events: []}",
        `unexpected character "e" where a string key was expected (line 1, column 2, position 1)`,
      ],
      [
        '{"events": [1 2]}',
        `unexpected character "2" after a value (line 1, column 15, position 14)`,
      ],
      [
        '{"events": [], "n": 01}',
        `unexpected character "1" after a value (line 1, column 22, position 21)`,
      ],
      [
        '{"events": [], "n": -}',
        `unexpected character "-" where a value was expected (line 1, column 21, position 20)`,
      ],
      [
        '{"events": [], "n": 1.}',
        `unexpected character "." after a value (line 1, column 22, position 21)`,
      ],
      [
        '{"events": [], "n": 1e}',
        `unexpected character "e" after a value (line 1, column 22, position 21)`,
      ],
      ['{"events": [], "s": "a\\x"}', "invalid escape in string (line 1, column 23, position 22)"],
      [
        '{"events": [], "s": "\\u12G4"}',
        "invalid escape in string (line 1, column 22, position 21)",
      ],
      [
        '{"events": [], "s": "a\tb"}',
        "control character in string (line 1, column 23, position 22)",
      ],
      [
        '{"events": tru}',
        `unexpected character "t" where a value was expected (line 1, column 12, position 11)`,
      ],
      [
        "{'events': []}",
        `unexpected character "'" where a string key was expected (line 1, column 2, position 1)`,
      ],
    ];
    for (const [text, reason] of cases) {
      assert.deepEqual(
        issuesOf(text),
        [{ path: "", message: `body is not valid JSON: ${reason}` }],
        text,
      );
    }
    assert.deepEqual(issuesOf(""), [{ path: "", message: "body is empty" }]);
    assert.deepEqual(issuesOf(" \n\t"), [{ path: "", message: "body is empty" }]);
    assert.deepEqual(issuesOf(new Uint8Array()), [{ path: "", message: "body is empty" }]);
  });

  it("rejects a root that is not an envelope object", () => {
    for (const [body, kind] of [
      ["[]", "array"],
      ["null", "null"],
      ["42", "number"],
      ['"events"', "string"],
      [null, "null"],
      [undefined, "undefined"],
      [[{ events: [] }], "array"],
      [true, "boolean"],
    ] as const) {
      assert.deepEqual(issuesOf(body), [
        { path: "", message: `must be a JSON object with an "events" array, got ${kind}` },
      ]);
    }
    assert.deepEqual(issuesOf("{}"), [{ path: "events", message: "is required" }]);
    assert.deepEqual(issuesOf('{"events": {}}'), [
      { path: "events", message: "must be an array, got object" },
    ]);
    assert.deepEqual(issuesOf('{"events": null}'), [
      { path: "events", message: "must be an array, got null" },
    ]);
    assert.deepEqual(issuesOf('{"events": [1, [], null]}'), [
      { path: "events[0]", message: "must be an object, got number" },
      { path: "events[1]", message: "must be an object, got array" },
      { path: "events[2]", message: "must be an object, got null" },
    ]);
  });

  it("requires id, timestamp, action and target.repository on each event", () => {
    assert.deepEqual(issuesOf('{"events": [{}]}'), [
      { path: "events[0].id", message: "is required" },
      { path: "events[0].timestamp", message: "is required" },
      { path: "events[0].action", message: "is required" },
      { path: "events[0].target", message: "is required" },
    ]);
    const cases: [(e: Record<string, unknown>) => void, EnvelopeIssue][] = [
      [
        (e) => {
          e.id = "";
        },
        { path: "events[0].id", message: "must not be empty" },
      ],
      [
        (e) => {
          e.id = 7;
        },
        { path: "events[0].id", message: "must be a string, got number" },
      ],
      [
        (e) => {
          e.timestamp = 1714644904;
        },
        { path: "events[0].timestamp", message: "must be a string, got number" },
      ],
      [
        (e) => {
          delete e.action;
        },
        { path: "events[0].action", message: "is required" },
      ],
      [
        (e) => {
          e.action = "";
        },
        { path: "events[0].action", message: "must not be empty" },
      ],
      [
        (e) => {
          e.target = [];
        },
        { path: "events[0].target", message: "must be an object, got array" },
      ],
      [
        (e) => {
          e.target = "library/alpine";
        },
        { path: "events[0].target", message: "must be an object, got string" },
      ],
      [
        (e) => {
          e.target = {};
        },
        { path: "events[0].target.repository", message: "is required" },
      ],
      [
        (e) => {
          e.target = { repository: "" };
        },
        { path: "events[0].target.repository", message: "must not be empty" },
      ],
      [
        (e) => {
          e.target = { repository: null };
        },
        { path: "events[0].target.repository", message: "must be a string, got null" },
      ],
      [
        (e) => {
          e.request = [];
        },
        { path: "events[0].request", message: "must be an object, got array" },
      ],
      [
        (e) => {
          e.request = { method: 1 };
        },
        { path: "events[0].request.method", message: "must be a string, got number" },
      ],
      [
        (e) => {
          e.actor = null;
        },
        { path: "events[0].actor", message: "must be an object, got null" },
      ],
      [
        (e) => {
          e.actor = { name: false };
        },
        { path: "events[0].actor.name", message: "must be a string, got boolean" },
      ],
      [
        (e) => {
          e.source = { instanceID: {} };
        },
        { path: "events[0].source.instanceID", message: "must be a string, got object" },
      ],
    ];
    for (const [patch, issue] of cases)
      assert.deepEqual(issuesOf(oneEvent(patch)), [issue], issue.path);
  });

  it("checks every typed target field with its path", () => {
    const target = (t: Record<string, unknown>) =>
      oneEvent((e) => {
        e.target = { repository: "r", ...t };
      });
    const cases: [Record<string, unknown>, EnvelopeIssue][] = [
      [
        { size: -1 },
        {
          path: "events[0].target.size",
          message: "must be a non-negative integer below 2^53, got -1",
        },
      ],
      [
        { size: 1.5 },
        {
          path: "events[0].target.size",
          message: "must be a non-negative integer below 2^53, got 1.5",
        },
      ],
      [
        { size: 2 ** 53 },
        {
          path: "events[0].target.size",
          message: "must be a non-negative integer below 2^53, got 9007199254740992",
        },
      ],
      [
        { size: "12" },
        {
          path: "events[0].target.size",
          message: "must be a non-negative integer below 2^53, got string",
        },
      ],
      [
        { length: null },
        {
          path: "events[0].target.length",
          message: "must be a non-negative integer below 2^53, got null",
        },
      ],
      [
        { mediaType: 1 },
        { path: "events[0].target.mediaType", message: "must be a string, got number" },
      ],
      [{ digest: [] }, { path: "events[0].target.digest", message: "must be a string, got array" }],
      [{ url: {} }, { path: "events[0].target.url", message: "must be a string, got object" }],
      [{ tag: 1 }, { path: "events[0].target.tag", message: "must be a string, got number" }],
      [
        { fromRepository: true },
        { path: "events[0].target.fromRepository", message: "must be a string, got boolean" },
      ],
      [{ urls: "u" }, { path: "events[0].target.urls", message: "must be an array, got string" }],
      [
        { urls: ["u", 2] },
        { path: "events[0].target.urls[1]", message: "must be a string, got number" },
      ],
      [
        { annotations: [] },
        { path: "events[0].target.annotations", message: "must be an object, got array" },
      ],
      [
        { annotations: { "org.opencontainers.image.title": 1 } },
        {
          path: 'events[0].target.annotations["org.opencontainers.image.title"]',
          message: "must be a string, got number",
        },
      ],
      [{ data: 0 }, { path: "events[0].target.data", message: "must be a string, got number" }],
      [
        { artifactType: 0 },
        { path: "events[0].target.artifactType", message: "must be a string, got number" },
      ],
      [
        { platform: "linux" },
        { path: "events[0].target.platform", message: "must be an object, got string" },
      ],
      [
        { platform: { os: "linux" } },
        { path: "events[0].target.platform.architecture", message: "is required" },
      ],
      [
        { references: {} },
        {
          path: "events[0].target.references",
          message: "must be an array, got object",
        },
      ],
      [
        { references: [{}, "sha256:x"] },
        { path: "events[0].target.references[1]", message: "must be an object, got string" },
      ],
      [
        { references: [{ size: -2 }] },
        {
          path: "events[0].target.references[0].size",
          message: "must be a non-negative integer below 2^53, got -2",
        },
      ],
      [
        { references: [{ platform: { architecture: "arm", os: "linux", "os.version": 10 } }] },
        {
          path: 'events[0].target.references[0].platform["os.version"]',
          message: "must be a string, got number",
        },
      ],
      [
        { references: [{ platform: { architecture: "arm", os: "linux", "os.features": [1] } }] },
        {
          path: 'events[0].target.references[0].platform["os.features"][0]',
          message: "must be a string, got number",
        },
      ],
      [
        { references: [{ platform: { architecture: "arm", os: "linux", variant: 7 } }] },
        {
          path: "events[0].target.references[0].platform.variant",
          message: "must be a string, got number",
        },
      ],
    ];
    for (const [fields, issue] of cases)
      assert.deepEqual(issuesOf(target(fields)), [issue], issue.path);
  });

  it("collects issues of several events (at most 50)", () => {
    const body = JSON.stringify({
      events: [
        { id: "a", timestamp: "2024-01-01T00:00:00Z", action: "pull", target: { repository: "r" } },
        { id: 1 },
      ],
    });
    assert.deepEqual(issuesOf(body), [
      { path: "events[1].id", message: "must be a string, got number" },
      { path: "events[1].timestamp", message: "is required" },
      { path: "events[1].action", message: "is required" },
      { path: "events[1].target", message: "is required" },
    ]);
    assert.equal(
      issuesOf(JSON.stringify({ events: Array.from({ length: 40 }, () => ({})) })).length,
      50,
    );
  });

  it("parseEnvelope throws an EnvelopeError carrying the issues", () => {
    try {
      parseEnvelope('{"events": [{"id": "", "timestamp": "now", "action": "x", "target": {}}, 5]}');
      assert.fail("expected EnvelopeError");
    } catch (error) {
      assert.ok(error instanceof EnvelopeError);
      assert.ok(error instanceof Error);
      assert.equal(error.name, "EnvelopeError");
      assert.deepEqual(error.issues, [
        { path: "events[0].id", message: "must not be empty" },
        {
          path: "events[0].timestamp",
          message: "must be an RFC 3339 timestamp such as 2006-01-02T15:04:05.999999999Z",
        },
        { path: "events[0].target.repository", message: "is required" },
        { path: "events[1]", message: "must be an object, got number" },
      ]);
      assert.equal(
        error.message,
        "invalid envelope: events[0].id: must not be empty; events[0].timestamp: must be an RFC 3339 timestamp such as 2006-01-02T15:04:05.999999999Z; events[0].target.repository: is required (and 1 more)",
      );
    }
    assert.throws(() => parseEnvelope("nope"), {
      name: "EnvelopeError",
      message: `invalid envelope: body is not valid JSON: unexpected character "n" where a value was expected (line 1, column 1, position 0)`,
    });
  });

  it("safeParseEnvelope never throws, even for hostile values", () => {
    const throwing = {
      get events(): never {
        throw new Error("boom");
      },
    };
    const proxy = new Proxy(
      {},
      {
        get: () => {
          throw new Error("trap");
        },
      },
    );
    for (const body of [
      throwing,
      proxy,
      Symbol("s"),
      () => 1,
      10n,
      new Uint16Array([0xd800]),
      "[".repeat(10_000),
      // Tagged as a buffer, but not one: the decoder refuses it (an answer, not a hang).
      { [Symbol.toStringTag]: "ArrayBuffer" },
    ]) {
      const result = safeParseEnvelope(body);
      assert.equal(result.success, false);
      if (!result.success)
        assert.ok(result.issues.length > 0 && typeof result.issues[0]?.message === "string");
    }
    assert.deepEqual(issuesOf(throwing), [{ path: "", message: "could not be read: Error: boom" }]);
  });
});

describe("parseEnvelope agrees with EnvelopeSchema (schema.ts)", () => {
  const base = (): Record<string, unknown> => ({
    events: [
      {
        id: "e",
        timestamp: "2024-05-02T10:15:04.5-07:00",
        action: "push",
        target: {
          mediaType: "m",
          size: 1,
          digest: "d",
          urls: ["u"],
          annotations: { a: "b" },
          data: "",
          platform: {
            architecture: "amd64",
            os: "linux",
            "os.version": "1",
            "os.features": ["f"],
            variant: "v",
            features: ["x"],
          },
          artifactType: "t",
          length: 1,
          repository: "r",
          fromRepository: "f",
          url: "u",
          tag: "t",
          references: [
            {
              mediaType: "m",
              size: 2,
              digest: "d",
              platform: { architecture: "arm64", os: "linux" },
            },
          ],
        },
        request: { id: "i", addr: "a", host: "h", method: "GET", useragent: "u" },
        actor: { name: "n" },
        source: { addr: "a", instanceID: "i" },
      },
    ],
  });
  const paths: (string | number)[][] = [[]];
  const collect = (value: unknown, at: (string | number)[]) => {
    if (Array.isArray(value))
      value.forEach((item, i) => {
        paths.push([...at, i]);
        collect(item, [...at, i]);
      });
    else if (typeof value === "object" && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        paths.push([...at, key]);
        collect(item, [...at, key]);
      }
    }
  };
  collect(base(), []);
  const DELETE = Symbol("delete");
  const values: unknown[] = [
    DELETE,
    null,
    0,
    -1,
    1.5,
    2 ** 53,
    "",
    "x",
    "2024-01-01T00:00:00Z",
    true,
    [],
    {},
    ["x"],
    [1],
    { repository: "r" },
  ];

  it(`gives the same verdict for ${paths.length} paths × ${values.length} replacement values`, () => {
    assert.ok(validate(base()));
    assert.equal(safeParseEnvelope(base()).success, true);
    let rejected = 0;
    for (const path of paths) {
      for (const replacement of values) {
        const envelope = base();
        let holder: Record<string | number, unknown> = envelope;
        for (const key of path.slice(0, -1))
          holder = holder[key] as Record<string | number, unknown>;
        const last = path[path.length - 1];
        let candidate: unknown = envelope;
        if (last === undefined) candidate = replacement === DELETE ? undefined : replacement;
        else if (replacement === DELETE) {
          if (Array.isArray(holder)) holder.splice(last as number, 1);
          else delete holder[last];
        } else holder[last] = replacement;
        const ours = safeParseEnvelope(candidate);
        const label = `${pathOf(path) || "(root)"} = ${replacement === DELETE ? "(deleted)" : JSON.stringify(replacement)}`;
        assert.equal(ours.success, validate(candidate), label);
        if (!ours.success) {
          rejected++;
          const at = pathOf(path);
          assert.ok(
            ours.issues.some(
              (i) =>
                i.path === at ||
                i.path.startsWith(`${at}.`) ||
                i.path.startsWith(`${at}[`) ||
                (at === "" && i.path !== undefined),
            ),
            `${label}: ${JSON.stringify(ours.issues)}`,
          );
        }
      }
    }
    assert.ok(rejected > paths.length, "the corpus exercises rejections");
  });
});

describe("parseEnvelope limits: it accepts only what the relay can store and encode", () => {
  const v2 = { mediaType: EventsMediaTypeV2 } as const;
  const bytesOf = (text: string): number => new TextEncoder().encode(text).length;
  /** A valid event's JSON text with `extra` members appended to its target, as text. */
  const withTarget = (extra: string, id = "e1") =>
    `{"events":[{"id":${JSON.stringify(id)},"timestamp":"2024-05-02T10:15:04Z","action":"push","target":{"repository":"r"${extra}}}]}`;
  /** `levels` arrays, each the only item of the one around it. */
  const arrays = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
  /** Encodes on both lines, then checks that parsing and encoding again changes nothing. */
  const assertStable = (envelope: Envelope, label: string) => {
    for (const options of [{}, v2]) {
      const once = encodeEnvelope(envelope, options);
      assert.equal(encodeEnvelope(parseEnvelope(once), options), once, label);
    }
  };
  const tooDeep = `nests deeper than MAX_JSON_DEPTH (${MAX_JSON_DEPTH} levels)`;

  it("MAX_JSON_DEPTH: 64 levels accepted, 65 refused with the path, even 100k levels deep", () => {
    assert.equal(MAX_JSON_DEPTH, 64);
    // Root 1, events 2, event 3, target 4: "x" holds levels 5 to 64.
    const deepest = withTarget(`,"x":${arrays(60)}`);
    const envelope = parseEnvelope(deepest);
    assertStable(envelope, "64 levels");
    const path = `events[0].target.x${"[0]".repeat(60)}`;
    for (const levels of [61, 62, 1200, 100_000]) {
      assert.deepEqual(
        issuesOf(withTarget(`,"x":${arrays(levels)}`)),
        [{ path, message: tooDeep }],
        `${levels}`,
      );
    }
    // Objects too, unknown keys in the path, and any field of the envelope.
    const objects = `${'{"a b":'.repeat(61)}1${"}".repeat(61)}`;
    assert.deepEqual(issuesOf(withTarget(`,"o":${objects}`)), [
      { path: `events[0].target.o${'["a b"]'.repeat(60)}`, message: tooDeep },
    ]);
    assert.deepEqual(issuesOf(`{"events":[],"batch":{"n":${arrays(63)}}}`), [
      { path: `batch.n${"[0]".repeat(62)}`, message: tooDeep },
    ]);
    assert.equal(safeParseEnvelope(`{"events":[],"batch":{"n":${arrays(62)}}}`).success, true);
    // Parsed input: the same limit; a cycle is a nesting without end.
    const parsed = JSON.parse(withTarget(`,"x":${arrays(61)}`));
    assert.deepEqual(issuesOf(parsed), [{ path, message: tooDeep }]);
    const cyclic = JSON.parse(withTarget(""));
    cyclic.events[0].self = cyclic.events[0];
    assert.deepEqual(issuesOf(cyclic), [
      { path: `events[0]${".self".repeat(61)}.target`, message: tooDeep },
    ]);
    // An engine whose JSON.parse recursed would throw RangeError: still an EnvelopeError.
    const parse = JSON.parse;
    JSON.parse = () => {
      throw new RangeError("Maximum call stack size exceeded");
    };
    try {
      assert.throws(() => parseEnvelope(withTarget(`,"x":${arrays(100_000)}`)), {
        name: "EnvelopeError",
        message: "invalid envelope: body is not valid JSON: Maximum call stack size exceeded",
      });
    } finally {
      JSON.parse = parse;
    }
  });

  it("leaves the size of an event to the store (eventTexts): a 3 MB event parses", () => {
    const big = `{"events":[{"id":"e1","timestamp":"2024-05-02T10:15:04Z","action":"push","target":{"repository":"r"},"blob":"${"x".repeat(3_000_000)}"}]}`;
    assert.equal(parseEnvelope(big).events[0]?.blob, "x".repeat(3_000_000));
    assert.ok(MAX_EVENT_BYTES < 3_000_000);
  });

  it("MAX_EVENT_KEY_BYTES: ids of 1024 UTF-8 bytes accepted, 1025 refused (tooLarge)", () => {
    assert.equal(MAX_EVENT_KEY_BYTES, 1024);
    for (const id of ["i".repeat(1024), "é".repeat(512), `${"😀".repeat(255)}abcd`]) {
      assert.equal(bytesOf(id), 1024);
      const envelope = parseEnvelope(withTarget("", id));
      assert.equal(envelope.events[0]?.id, id);
      assertStable(envelope, id.slice(0, 2));
    }
    for (const id of ["i".repeat(1025), `${"é".repeat(512)}a`, "😀".repeat(257)]) {
      const n = bytesOf(id);
      assert.deepEqual(issuesOf(withTarget("", id)), [
        {
          path: "events[0].id",
          message: `is ${n} bytes long, over MAX_EVENT_KEY_BYTES (${MAX_EVENT_KEY_BYTES})`,
        },
      ]);
      assert.throws(
        () => parseEnvelope(withTarget("", id)),
        (error) => error instanceof EnvelopeError && error.tooLarge,
      );
    }
    // 3 MB: the id is over (the event's own size is the store's check, eventTexts).
    const huge = withTarget("", "i".repeat(3_000_000));
    assert.deepEqual(
      issuesOf(huge).map((issue) => issue.path),
      ["events[0].id"],
    );
    assert.throws(
      () => parseEnvelope(huge),
      (error) => error instanceof EnvelopeError && error.tooLarge,
    );
    // An id over the limit does not hide a field nested too deep: both are named, and since
    // one is no size limit, the answer is 400 (not tooLarge), whatever is fixed first.
    const both = withTarget(`,"x":${arrays(70)}`, "i".repeat(1025));
    assert.deepEqual(
      issuesOf(both).map((issue) => issue.path),
      ["events[0].id", `events[0].target.x${"[0]".repeat(60)}`],
    );
    assert.throws(
      () => parseEnvelope(both),
      (error) => error instanceof EnvelopeError && !error.tooLarge,
    );
  });

  it("MAX_EVENT_KEY_BYTES bounds action and target.repository too (each is a column of the row)", () => {
    const body = (action: string, repository: string) =>
      `{"events":[{"id":"e1","timestamp":"2024-05-02T10:15:04Z","action":${JSON.stringify(action)},"target":{"repository":${JSON.stringify(repository)}}}]}`;
    const fits = "r".repeat(MAX_EVENT_KEY_BYTES);
    assert.equal(parseEnvelope(body(fits, fits)).events[0]?.target.repository, fits);
    const over = `${fits}x`;
    assert.deepEqual(
      issuesOf(body(over, over)).map((issue) => issue.path),
      ["events[0].action", "events[0].target.repository"],
    );
    assert.throws(
      () => parseEnvelope(body("push", "é".repeat(513))),
      (error) => error instanceof EnvelopeError && error.tooLarge,
    );
  });

  it('refuses a duplicated "events" key, however it is spelled (JSON.parse keeps the last)', () => {
    const event = withTarget("").slice('{"events":['.length, -2);
    const issue = { path: "events", message: "duplicate key; all but the last would be lost" };
    for (const body of [
      `{"events":[${event}],"events":[]}`,
      `{"events":[],"events":[${event}]}`,
      `{"events":[${event}],"x":1,"\\u0065vents":[]}`,
      `{"ev\\u0065nts":[${event}],"events":[${event}]}`,
      `{"even\\u0074\\u0073":null,\n   "events": [${event}]}`,
    ]) {
      assert.deepEqual(issuesOf(body), [issue], body);
      assert.deepEqual(issuesOf(new TextEncoder().encode(body)), [issue], body);
      assert.throws(
        () => parseEnvelope(body),
        (error) => error instanceof EnvelopeError && !error.tooLarge,
      );
    }
    // "events" elsewhere is not the envelope's key.
    for (const body of [
      `{"events":[${event}],"x":{"events":[]},"y":"events","z":["events",{"events":1}]}`,
      `{"events":[${event.replace('"repository":"r"', '"repository":"team/events"')}]}`,
      `{"x":"\\u0065vents","events":[${event}]}`,
    ]) {
      assert.equal(safeParseEnvelope(body).success, true, body);
    }
  });

  it("refuses numbers the encoder cannot write (1e400 is Infinity) with their path", () => {
    assert.deepEqual(issuesOf(withTarget(',"x":[1,{"y":1e400}]')), [
      { path: "events[0].target.x[1].y", message: "Infinity is not a JSON number" },
    ]);
    assert.deepEqual(issuesOf('{"events":[],"n":-1e999}'), [
      { path: "n", message: "-Infinity is not a JSON number" },
    ]);
    assert.deepEqual(issuesOf(withTarget(',"size":1e400')), [
      {
        path: "events[0].target.size",
        message: "must be a non-negative integer below 2^53, got Infinity",
      },
    ]);
    for (const number of ["1e-400", "-0", "1E2", "0.5e1", "123456789012345678901", "1.0"]) {
      assertStable(parseEnvelope(withTarget(`,"x":${number}`)), number);
    }
  });

  it("reads lone surrogates as U+FFFD, as Go does, so a second round trip changes nothing", () => {
    const cases: [string, unknown][] = [
      [withTarget(',"tag":"a\\ud800b"'), "a\ufffdb"],
      [withTarget(',"tag":"\\udc00"'), "\ufffd"],
      [withTarget(',"tag":"\\uDBFF\\u0041"'), "\ufffdA"],
      [withTarget(',"tag":"\\ud800\\ud800\\udc00"'), "\ufffd\u{10000}"],
      [withTarget(',"tag":"\\ud83d\\ude00"'), "😀"],
      [withTarget(',"tag":"\\\\ud800"'), "\\ud800"],
      [withTarget(',"tag":"\ud800 raw"'), "\ufffd raw"],
      [withTarget(',"tag":"\\ud83d\ude00"'), "\ufffd\ufffd"],
    ];
    for (const [body, tag] of cases) {
      const envelope = parseEnvelope(body);
      assert.equal(envelope.events[0]?.target.tag, tag, body);
      assertStable(envelope, body);
      const bytes = new TextEncoder().encode(body);
      assert.equal(parseEnvelope(bytes).events[0]?.target.tag, tag, body);
    }
    // Keys too; Go writes U+FFFD as it is, not as \ufffd.
    const envelope = parseEnvelope(withTarget(',"k\\udfff":{"\\ud800":"\\ud800"}'));
    assertStable(envelope, "keys");
    assert.ok(encodeEnvelope(envelope).includes('"k\ufffd": {\n'));
    assert.ok(encodeEnvelope(envelope).includes('"\ufffd": "\ufffd"'));
    // The fix-up keeps lengths: syntax errors are where they were.
    assert.deepEqual(issuesOf('{"events": [], "s": "\\ud800\\x"}'), [
      {
        path: "",
        message:
          "body is not valid JSON: invalid escape in string (line 1, column 28, position 27)",
      },
    ]);
  });
});
