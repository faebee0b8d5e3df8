import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineProject } from "vitest/config";
import { sharedTestServer } from "../support/shared-server.mjs";

// The Worker (routes + EndpointQueue Durable Objects) inside workerd, configured from
// wrangler.toml with test bindings: endpoints deliver to the shared test server's inboxes on
// 127.0.0.1, so nothing leaves the machine. Tests fetch fixtures from that server too.
const server = await sharedTestServer();

/** Values that must never appear in a response, a log line or a metric (redaction tests). */
export const testSecrets = {
  ingestToken: "ingest-token-7f3a9c",
  ingestToken2: "ingest-token-second-51e2",
  adminToken: "admin-token-0b8d44",
  // Standard Webhooks secret: whsec_ + base64 of 32 bytes.
  signingSecret: "whsec_cmVnaXN0cnktcmVsYXktdGVzdC1zaWduaW5nLWtleSE=",
  headerValue: "Bearer endpoint-header-value-c41d",
  apiKeyValue: "endpoint-api-key-9e77",
  urlPassword: "url-password-2aa1",
  urlQueryToken: "url-query-token-66b0",
};

/** The endpoints every test in this project sees (RELAY_ENDPOINTS). */
export const testEndpoints = [
  {
    name: "inbox",
    url: `${server.url}/inbox/worker-inbox?token=${testSecrets.urlQueryToken}`,
    headers: {
      Authorization: [testSecrets.headerValue],
      "X-Api-Key": testSecrets.apiKeyValue,
    },
    secret: testSecrets.signingSecret,
    timeout: "2s",
  },
  {
    name: "manifests",
    url: `${server.url}/inbox/worker-manifests`,
    ignore: { mediatypes: ["application/octet-stream"], actions: ["pull"] },
  },
  { name: "sharded", url: `${server.url}/inbox/worker-sharded`, partitions: 4 },
  // Answers 422 (a final 4xx) to everything: its events go straight to its dead letters. Only
  // delete events reach it, so other tests do not fill the log with dead-letter lines.
  {
    name: "rejecting",
    url: `${server.url}/flaky/worker-rejecting?fail=1000000000&status=422`,
    headers: { "X-Relay-Key": [testSecrets.apiKeyValue] },
    secret: testSecrets.signingSecret,
    ignore: { actions: ["pull", "push", "mount"] },
    maxAttempts: 3,
  },
  {
    name: "off",
    url:
      server.url.replace("http://", `http://relay:${testSecrets.urlPassword}@`) +
      "/inbox/worker-off",
    disabled: true,
  },
];

export default defineProject({
  plugins: [
    cloudflareTest({
      main: "./worker/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          RELAY_ENDPOINTS: JSON.stringify(testEndpoints),
          RELAY_INGEST_TOKENS: `${testSecrets.ingestToken}, ${testSecrets.ingestToken2}`,
          RELAY_ADMIN_TOKEN: testSecrets.adminToken,
          RELAY_ALLOW_ANONYMOUS: "false",
          RELAY_MAX_BODY_BYTES: String(64 * 1024),
          RELAY_CORS_ORIGINS: "https://ops.example.com, http://127.0.0.1:5173",
        },
      },
    }),
  ],
  define: {
    __RELAY_TEST_SERVER__: JSON.stringify(server.url),
    __RELAY_TEST_SECRETS__: JSON.stringify(testSecrets),
  },
  test: { name: "worker", include: ["test/worker/**/*.test.ts"] },
});
