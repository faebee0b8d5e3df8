import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { MAX_EVENT_KEY_BYTES } from "../../src/event/envelope.ts";
import type { Envelope } from "../../src/event/schema.ts";
import {
  BodyTooLargeError,
  bearerToken,
  defaultMaxBodyBytes,
  errorBody,
  errorResponse,
  mediaTypeOf,
  type ReceiveEnvelopesOptions,
  readBodyLimited,
  receiveEnvelopes,
  tokenMatcher,
} from "../../src/hono/index.ts";
import { loadFixtures } from "../support/env.ts";

const v1 = "application/vnd.docker.distribution.events.v1+json";
const v2 = "application/vnd.docker.distribution.events.v2+json";

interface Received {
  envelope: Envelope;
  mediaType: string;
  raw: Uint8Array;
}

function appWith(options: Partial<ReceiveEnvelopesOptions> = {}) {
  const received: Received[] = [];
  const app = new Hono();
  app.post(
    "/events",
    receiveEnvelopes({
      tokens: ["token-one", "token-two"],
      onEnvelope: (envelope, { mediaType, raw }) => {
        received.push({ envelope, mediaType, raw });
      },
      ...options,
    }),
  );
  return { app, received };
}

async function firstFixture() {
  const fixtures = await loadFixtures();
  return fixtures[0]!;
}

const post = (
  app: Hono,
  body: BodyInit | Uint8Array | null,
  headers: Record<string, string> = {},
  init: RequestInit = {},
) =>
  app.request("/events", {
    method: "POST",
    body: body as BodyInit | null,
    headers: { authorization: "Bearer token-one", "content-type": v1, ...headers },
    ...init,
  });

/**
 * POSTs a stream through `app.fetch` (a real Request: `app.request` would buffer it), with the
 * token and v1 content type, and `headers` on top.
 */
const postStream = (app: Hono, body: ReadableStream, headers: Record<string, string> = {}) =>
  app.fetch(
    new Request("http://relay/events", {
      method: "POST",
      body,
      headers: { authorization: "Bearer token-one", "content-type": v1, ...headers },
      duplex: "half",
    } as RequestInit),
  );

async function errorOf(response: Response) {
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await response.json()) as {
    error: { code: string; message: string; issues?: { path: string; message: string }[] };
  };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(typeof body.error.code).toBe("string");
  expect(typeof body.error.message).toBe("string");
  return body.error;
}

describe("receiveEnvelopes: accepted envelopes", () => {
  it("accepts every captured registry body and hands over the envelope and the raw bytes", async () => {
    const { app, received } = appWith();
    const fixtures = await loadFixtures();
    expect(fixtures.length).toBeGreaterThan(50);
    for (const fixture of fixtures) {
      const response = await post(app, fixture.bytes);
      expect(response.status, fixture.name).toBe(202);
      const events = JSON.parse(fixture.text).events as unknown[];
      expect(await response.json()).toEqual({ accepted: events.length });
    }
    expect(received).toHaveLength(fixtures.length);
    received.forEach((item, index) => {
      expect(item.mediaType).toBe(v1);
      expect(item.raw).toEqual(fixtures[index]!.bytes);
      expect(item.envelope.events[0]!.id).toBe(JSON.parse(fixtures[index]!.text).events[0].id);
    });
  });

  it.each([
    [v1, v1],
    [v2, v2],
    ["application/json", "application/json"],
    ["application/json; charset=utf-8", "application/json"],
    ["Application/JSON;charset=UTF-8", "application/json"],
    [`${v1}; charset=utf-8`, v1],
  ])("accepts Content-Type %s as %s", async (contentType, expected) => {
    const { app, received } = appWith();
    const response = await post(app, (await firstFixture()).bytes, { "content-type": contentType });
    expect(response.status).toBe(202);
    expect(received[0]?.mediaType).toBe(expected);
  });

  it("answers with the Response onEnvelope returns", async () => {
    const { app } = appWith({
      onEnvelope: (envelope) => Response.json({ n: envelope.events.length }, { status: 200 }),
    });
    const response = await post(app, (await firstFixture()).bytes);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ n: 1 });
  });

  it("accepts a token by the second configured value and by verifyToken", async () => {
    const { app } = appWith();
    expect(
      (await post(app, (await firstFixture()).bytes, { authorization: "bearer token-two" })).status,
    ).toBe(202);
    const checked: string[] = [];
    const custom = appWith({
      tokens: [],
      verifyToken: (token) => {
        checked.push(token);
        return token === "from-vault";
      },
    }).app;
    expect(
      (await post(custom, (await firstFixture()).bytes, { authorization: "Bearer from-vault" }))
        .status,
    ).toBe(202);
    expect(
      (await post(custom, (await firstFixture()).bytes, { authorization: "Bearer other" })).status,
    ).toBe(401);
    expect(checked).toEqual(["from-vault", "other"]);
  });
});

describe("receiveEnvelopes: authentication", () => {
  it("401 without a token, with WWW-Authenticate, and never calls onEnvelope", async () => {
    const { app, received } = appWith();
    const response = await post(app, (await firstFixture()).bytes, { authorization: "" });
    // An empty Authorization header counts as none.
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="registry-relay"');
    expect((await errorOf(response)).code).toBe("unauthorized");
    expect(received).toHaveLength(0);
  });

  it("401 when the Authorization header is absent altogether", async () => {
    const { app, received } = appWith();
    const response = await app.request("/events", {
      method: "POST",
      body: (await firstFixture()).text,
      headers: { "content-type": v1 },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe('Bearer realm="registry-relay"');
    expect(received).toHaveLength(0);
  });

  it("401 invalid_token for a wrong token, invalid_request for another scheme", async () => {
    const { app, received } = appWith();
    const wrong = await post(app, (await firstFixture()).bytes, {
      authorization: "Bearer token-one-",
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toContain('error="invalid_token"');
    const basic = await post(app, (await firstFixture()).bytes, {
      authorization: "Basic dG9rZW4tb25lOg==",
    });
    expect(basic.status).toBe(401);
    expect(basic.headers.get("www-authenticate")).toContain('error="invalid_request"');
    const message = (await errorOf(wrong)).message + (await errorOf(basic)).message;
    expect(message).not.toContain("token-one");
    expect(received).toHaveLength(0);
  });

  it("refuses everything when no token is configured, unless allowAnonymous", async () => {
    const closed = appWith({ tokens: [] });
    const refused = await post(closed.app, (await firstFixture()).bytes);
    expect(refused.status).toBe(401);
    expect((await errorOf(refused)).message).toMatch(/anonymous/);
    expect(closed.received).toHaveLength(0);

    const open = appWith({ tokens: [], allowAnonymous: true });
    expect((await post(open.app, (await firstFixture()).bytes, { authorization: "" })).status).toBe(
      202,
    );
    expect(
      (await post(open.app, (await firstFixture()).bytes, { authorization: "Bearer x" })).status,
    ).toBe(202);
  });

  it("refuses allowAnonymous next to tokens or verifyToken at construction (no bypass)", () => {
    const onEnvelope = () => {};
    for (const options of [
      { tokens: ["token-one"], allowAnonymous: true, onEnvelope },
      { verifyToken: () => true, allowAnonymous: true, onEnvelope },
      { tokens: [], verifyToken: () => false, allowAnonymous: true, onEnvelope },
      { tokens: ["a"], verifyToken: () => false, allowAnonymous: true, onEnvelope },
    ]) {
      expect(() => receiveEnvelopes(options)).toThrow(TypeError);
      expect(() => receiveEnvelopes(options)).toThrow(/allowAnonymous/);
    }
    // Anonymous alone, or tokens alone, are fine.
    expect(() => receiveEnvelopes({ tokens: [], allowAnonymous: true, onEnvelope })).not.toThrow();
    expect(() => receiveEnvelopes({ allowAnonymous: true, onEnvelope })).not.toThrow();
    expect(() =>
      receiveEnvelopes({ tokens: ["a"], allowAnonymous: false, onEnvelope }),
    ).not.toThrow();
  });

  // Every combination: how the receiver checks tokens × allowAnonymous × what the request carries.
  const checks = {
    tokens: { tokens: ["token-one"] },
    verifyToken: { tokens: [], verifyToken: (token: string) => token === "token-one" },
    none: { tokens: [] },
  } as const;
  const anonymous = { true: { allowAnonymous: true }, false: { allowAnonymous: false }, unset: {} };
  const headers = { missing: "", wrong: "Bearer token-two", right: "Bearer token-one" };
  const expected = (
    check: keyof typeof checks,
    anon: keyof typeof anonymous,
    header: keyof typeof headers,
  ): number | "TypeError" => {
    if (check !== "none") return anon === "true" ? "TypeError" : header === "right" ? 202 : 401;
    return anon === "true" ? 202 : 401;
  };
  const table = Object.keys(checks).flatMap((check) =>
    Object.keys(anonymous).flatMap((anon) =>
      Object.keys(headers).map((header) => {
        const row = [check, anon, header] as [
          keyof typeof checks,
          keyof typeof anonymous,
          keyof typeof headers,
        ];
        return [...row, expected(...row)] as const;
      }),
    ),
  );

  it.each(table)(
    "check %s, allowAnonymous %s, header %s → %s",
    async (check, anon, header, outcome) => {
      const options = { ...checks[check], ...anonymous[anon] };
      if (outcome === "TypeError") {
        expect(() => appWith(options)).toThrow(/allowAnonymous/);
        return;
      }
      const { app, received } = appWith(options);
      const response = await post(app, (await firstFixture()).bytes, {
        authorization: headers[header],
      });
      expect(response.status).toBe(outcome);
      if (outcome === 401) {
        expect(response.headers.get("www-authenticate")).toMatch(/^Bearer realm="registry-relay"/);
        expect((await errorOf(response)).code).toBe("unauthorized");
      }
      expect(received).toHaveLength(outcome === 202 ? 1 : 0);
    },
  );

  it("checks the token before the content type and the body", async () => {
    const { app } = appWith();
    const response = await post(app, "not json", {
      authorization: "",
      "content-type": "text/plain",
    });
    expect(response.status).toBe(401);
  });
});

describe("receiveEnvelopes: content type", () => {
  it.each([
    "text/plain",
    "application/xml",
    "application/jsonp",
    "application/vnd.docker.distribution.events.v3+json",
    "multipart/form-data; boundary=x",
  ])("415 for %s", async (contentType) => {
    const { app, received } = appWith();
    const response = await post(app, (await firstFixture()).bytes, { "content-type": contentType });
    expect(response.status).toBe(415);
    const error = await errorOf(response);
    expect(error.code).toBe("unsupported_media_type");
    expect(error.message).toContain(v1);
    expect(received).toHaveLength(0);
  });

  it("415 without a Content-Type", async () => {
    const { app } = appWith();
    const response = await app.request("/events", {
      method: "POST",
      body: new Blob([(await firstFixture()).text]), // a Blob without type sets no Content-Type
      headers: { authorization: "Bearer token-one" },
    });
    expect(response.status).toBe(415);
  });
});

describe("receiveEnvelopes: content encoding", () => {
  it("415 naming the coding for a gzip body, with Accept-Encoding: identity", async () => {
    const { app, received } = appWith();
    const fixture = await firstFixture();
    const gzipped = new Uint8Array(
      await new Response(
        new Blob([fixture.bytes]).stream().pipeThrough(new CompressionStream("gzip")),
      ).arrayBuffer(),
    );
    const response = await post(app, gzipped, { "content-encoding": "gzip" });
    expect(response.status).toBe(415);
    expect(response.headers.get("accept-encoding")).toBe("identity");
    const error = await errorOf(response);
    expect(error.code).toBe("unsupported_content_encoding");
    expect(error.message).toContain("gzip");
    expect(error.message).not.toMatch(/UTF-8/i);
    expect(received).toHaveLength(0);
  });

  it.each(["br", "deflate", "zstd", "x-gzip", "GZIP", "identity, gzip", "gzip, identity"])(
    "415 for Content-Encoding %s",
    async (coding) => {
      const { app, received } = appWith();
      const response = await post(app, (await firstFixture()).bytes, {
        "content-encoding": coding,
      });
      expect(response.status).toBe(415);
      expect((await errorOf(response)).code).toBe("unsupported_content_encoding");
      expect(received).toHaveLength(0);
    },
  );

  it.each(["identity", "Identity", " identity ", "identity, identity", ""])(
    "accepts Content-Encoding %j",
    async (coding) => {
      const { app } = appWith();
      const response = await post(app, (await firstFixture()).bytes, {
        "content-encoding": coding,
      });
      expect(response.status).toBe(202);
    },
  );

  it("checks the token and the content type first", async () => {
    const { app } = appWith();
    const fixture = await firstFixture();
    const anonymous = await post(app, fixture.bytes, {
      authorization: "",
      "content-encoding": "gzip",
    });
    expect(anonymous.status).toBe(401);
    const text = await post(app, fixture.bytes, {
      "content-type": "text/plain",
      "content-encoding": "gzip",
    });
    expect((await errorOf(text)).code).toBe("unsupported_media_type");
  });
});

describe("receiveEnvelopes: size limit", () => {
  it("413 from Content-Length before reading the body", async () => {
    const { app, received } = appWith({ maxBodyBytes: 100 });
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(10));
        if (pulled > 20) controller.close();
      },
    });
    const response = await postStream(app, body, { "content-length": "101" });
    expect(response.status).toBe(413);
    expect((await errorOf(response)).code).toBe("payload_too_large");
    expect(pulled).toBeLessThanOrEqual(2); // at most what the stream buffers ahead
    expect(received).toHaveLength(0);
  });

  it("413 while streaming a body without Content-Length, and stops reading", async () => {
    const { app, received } = appWith({ maxBodyBytes: 1000 });
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new TextEncoder().encode(" ".repeat(100)));
        if (pulled > 10_000) controller.close(); // never reached: the reader gives up first
      },
    });
    const response = await postStream(app, body);
    expect(response.status).toBe(413);
    expect(pulled).toBeLessThan(20);
    expect(received).toHaveLength(0);
  });

  it("never cancels a refused body (a cancel breaks the connection's next request in workerd)", async () => {
    for (const [declared, maxBodyBytes] of [
      ["101", 100],
      [undefined, 1000],
    ] as const) {
      const { app } = appWith({ maxBodyBytes });
      let cancelled = false;
      let pulled = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled += 1;
          controller.enqueue(new Uint8Array(100));
          if (pulled > 50) controller.close();
        },
        cancel() {
          cancelled = true;
        },
      });
      const response = await postStream(app, body, declared ? { "content-length": declared } : {});
      expect(response.status, `content-length ${declared}`).toBe(413);
      expect(cancelled, `content-length ${declared}`).toBe(false);
    }
  });

  it("drainBytes: a refused streamed body is read to its end within the bound, not past it", async () => {
    const run = async (total: number, drainBytes: number) => {
      const { app } = appWith({ maxBodyBytes: 1000, drainBytes });
      let pulled = 0;
      let cancelled = false;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled += 1;
          controller.enqueue(new Uint8Array(100));
          if (pulled * 100 >= total) controller.close();
        },
        cancel() {
          cancelled = true;
        },
      });
      const response = await postStream(app, body);
      expect(response.status).toBe(413);
      expect((await errorOf(response)).code).toBe("payload_too_large");
      expect(cancelled).toBe(false);
      return pulled;
    };
    // 5000 bytes with room to drain 8000: every chunk is read.
    expect(await run(5000, 8000)).toBe(50);
    // An endless body: reading stops after about limit + drainBytes.
    const pulled = await run(10_000_000, 4000);
    expect(pulled).toBeGreaterThanOrEqual(50);
    expect(pulled).toBeLessThan(60);
  });

  it("readBodyLimited: refuses by Content-Length without reading, drains up to drainBytes", async () => {
    let pulled = 0;
    const declared = new Request("http://relay/", {
      method: "POST",
      body: new ReadableStream({
        pull(controller) {
          pulled += 1;
          controller.enqueue(new Uint8Array(10));
        },
      }),
      headers: { "content-length": "11" },
      duplex: "half",
    } as RequestInit);
    await expect(readBodyLimited(declared, 10)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(pulled).toBeLessThanOrEqual(1); // at most what the stream buffers ahead
    expect(declared.bodyUsed).toBe(false);

    const bytes = new TextEncoder().encode("x".repeat(64));
    expect(
      await readBodyLimited(new Request("http://relay/", { method: "POST", body: bytes }), 64),
    ).toEqual(bytes);
    await expect(
      readBodyLimited(new Request("http://relay/", { method: "POST", body: bytes }), 63, {
        drainBytes: 1,
      }),
    ).rejects.toThrow(/limit of 63 bytes/);
    expect(await readBodyLimited(new Request("http://relay/", { method: "GET" }), 1)).toEqual(
      new Uint8Array(0),
    );
  });

  it("accepts a body of exactly the limit", async () => {
    const fixture = await firstFixture();
    const { app } = appWith({ maxBodyBytes: fixture.bytes.byteLength });
    expect((await post(app, fixture.bytes)).status).toBe(202);
    const smaller = appWith({ maxBodyBytes: fixture.bytes.byteLength - 1 });
    expect((await post(smaller.app, fixture.bytes)).status).toBe(413);
  });

  it("defaults to 1 MiB and rejects a bad limit at construction", () => {
    expect(defaultMaxBodyBytes).toBe(1048576);
    expect(() => receiveEnvelopes({ maxBodyBytes: 0, onEnvelope: () => {} })).toThrow(RangeError);
    expect(() => receiveEnvelopes({ tokens: [""], onEnvelope: () => {} })).toThrow(/tokens\[0\]/);
    expect(() => receiveEnvelopes({ drainBytes: -1, onEnvelope: () => {} })).toThrow(RangeError);
    expect(() => receiveEnvelopes({ drainBytes: 0.5, onEnvelope: () => {} })).toThrow(/drainBytes/);
  });
});

describe("receiveEnvelopes: invalid envelopes", () => {
  it("400 with the issue path for a missing field", async () => {
    const { app, received } = appWith();
    const envelope = JSON.parse((await firstFixture()).text);
    delete envelope.events[0].target.repository;
    const response = await post(app, JSON.stringify(envelope));
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.code).toBe("invalid_envelope");
    expect(error.issues?.map((issue) => issue.path)).toContain("events[0].target.repository");
    expect(received).toHaveLength(0);
  });

  it("400 for invalid JSON and for bytes that are not UTF-8", async () => {
    const { app } = appWith();
    const broken = await post(app, '{"events": [');
    expect(broken.status).toBe(400);
    const brokenIssues = (await errorOf(broken)).issues ?? [];
    expect(brokenIssues.length).toBeGreaterThan(0);
    expect(brokenIssues[0]!.path).toBe("");

    const notUtf8 = new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    const binary = await post(app, notUtf8);
    expect(binary.status).toBe(400);
    expect((await errorOf(binary)).issues?.[0]?.message).toMatch(/UTF-8/i);
  });

  it("413 naming the path when an issue is a size limit (EnvelopeError.tooLarge)", async () => {
    const { app, received } = appWith();
    const envelope = JSON.parse((await firstFixture()).text);
    envelope.events[0].id = "i".repeat(MAX_EVENT_KEY_BYTES + 1);
    const response = await post(app, JSON.stringify(envelope));
    expect(response.status).toBe(413);
    const error = await errorOf(response);
    expect(error.code).toBe("payload_too_large");
    expect(error.message).toContain("events[0].id");
    expect(error.issues?.map((issue) => issue.path)).toEqual(["events[0].id"]);
    expect(received).toHaveLength(0);

    // A size issue next to an ordinary mistake is a 400 (the body must be fixed anyway).
    delete envelope.events[0].target.repository;
    const mixed = await post(app, JSON.stringify(envelope));
    expect(mixed.status).toBe(400);
    expect((await errorOf(mixed)).code).toBe("invalid_envelope");
  });

  it("400 for an envelope whose events are not a list", async () => {
    const { app } = appWith();
    const response = await post(app, '{"events": {}}');
    expect(response.status).toBe(400);
    expect((await errorOf(response)).issues?.[0]?.path).toBe("events");
  });
});

describe("helpers", () => {
  it("errorBody and errorResponse build the one error shape", async () => {
    expect(errorBody("x", "y")).toEqual({ error: { code: "x", message: "y" } });
    expect(errorBody("x", "y", [])).toEqual({ error: { code: "x", message: "y" } });
    expect(errorBody("x", "y", [{ path: "a", message: "b" }])).toEqual({
      error: { code: "x", message: "y", issues: [{ path: "a", message: "b" }] },
    });
    const response = errorResponse(503, "busy", "later", { headers: { "retry-after": "3" } });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("3");
    expect(await response.json()).toEqual({ error: { code: "busy", message: "later" } });
  });

  it("bearerToken, mediaTypeOf and tokenMatcher", async () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer   abc  ")).toBe("abc");
    expect(bearerToken("Bearer")).toBeUndefined();
    expect(bearerToken("Bearer a b")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(mediaTypeOf(" Application/Json ; charset=utf-8")).toBe("application/json");
    expect(mediaTypeOf("")).toBeUndefined();
    const matches = tokenMatcher(["alpha", "beta-longer-token"]);
    expect(await matches("alpha")).toBe(true);
    expect(await matches("beta-longer-token")).toBe(true);
    expect(await matches("alph")).toBe(false);
    expect(await matches("")).toBe(false);
    expect(await tokenMatcher([])("anything")).toBe(false);
  });
});
