// Ingest authentication over every combination of RELAY_INGEST_TOKENS (set/unset) ×
// RELAY_ALLOW_ANONYMOUS (true/false/unset) × Authorization (missing/wrong/right) (issue 8.1).
// The rule: anonymous ingest exists only when no token is configured; tokens together with
// RELAY_ALLOW_ANONYMOUS=true is a config error (500 invalid_config naming the key), never a
// bypass for requests without a token.
import { describe, expect, it, vi } from "vitest";
import {
  envelopeOf,
  errorOf,
  event,
  type IngestResult,
  relay,
  secrets,
  v1,
  withEnv,
} from "./relay-helpers.ts";

const manifest = "application/vnd.oci.image.manifest.v1+json";

const tokens = {
  set: { RELAY_INGEST_TOKENS: `${secrets.ingestToken}, ${secrets.ingestToken2}` },
  unset: { RELAY_INGEST_TOKENS: undefined },
};
const anonymous = {
  true: { RELAY_ALLOW_ANONYMOUS: "true" },
  false: { RELAY_ALLOW_ANONYMOUS: "false" },
  unset: { RELAY_ALLOW_ANONYMOUS: undefined },
};
const headers: Record<string, Record<string, string>> = {
  missing: {},
  wrong: { authorization: `Bearer ${secrets.ingestToken}-wrong` },
  // With no token configured there is no right token: this one is right only when set.
  right: { authorization: `Bearer ${secrets.ingestToken}` },
};

type Row = [keyof typeof tokens, keyof typeof anonymous, keyof typeof headers];
type Outcome = 202 | 401 | "invalid_config";

function expected([token, anon, header]: Row): Outcome {
  if (token === "set") {
    if (anon === "true") return "invalid_config";
    return header === "right" ? 202 : 401;
  }
  return anon === "true" ? 202 : 401;
}

const table: [...Row, Outcome][] = (Object.keys(tokens) as Row[0][]).flatMap((token) =>
  (Object.keys(anonymous) as Row[1][]).flatMap((anon) =>
    (Object.keys(headers) as Row[2][]).map((header): [...Row, Outcome] => [
      token,
      anon,
      header,
      expected([token, anon, header]),
    ]),
  ),
);

describe("POST /v1/events: tokens × RELAY_ALLOW_ANONYMOUS × Authorization", () => {
  it("covers all 18 combinations", () => {
    expect(table).toHaveLength(18);
  });

  it.each(table)(
    "tokens %s, anonymous %s, header %s → %s",
    async (token, anon, header, outcome) => {
      const errors = vi.spyOn(console, "error").mockImplementation(() => {});
      try {
        const evt = event("push", `auth/${token}-${anon}-${header}`, manifest);
        const response = await withEnv(
          { ...tokens[token], ...anonymous[anon] },
          new Request(`${relay}/v1/events`, {
            method: "POST",
            body: envelopeOf(evt),
            headers: { "content-type": v1, ...headers[header] },
          }),
        );
        if (outcome === "invalid_config") {
          expect(response.status).toBe(500);
          const error = await errorOf(response);
          expect(error.code).toBe("invalid_config");
          expect(error.message).toContain("RELAY_ALLOW_ANONYMOUS");
          expect(error.issues?.[0]?.path).toBe("RELAY_ALLOW_ANONYMOUS");
          expect(JSON.stringify(error)).not.toContain(secrets.ingestToken);
          return;
        }
        expect(response.status).toBe(outcome);
        if (outcome === 401) {
          expect(response.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);
          expect((await errorOf(response)).code).toBe("unauthorized");
          return;
        }
        const body = (await response.json()) as IngestResult;
        expect(body.accepted).toBe(1);
        expect(body.endpoints.find((e) => e.name === "inbox")).toMatchObject({ queued: 1 });
      } finally {
        errors.mockRestore();
      }
    },
  );
});
