// bun-emitter: Bun playing a registry. It pushes a two-layer image (config blob, two layer blobs,
// then the manifest with a tag) and deletes the tag, builds the five events exactly as
// distribution's notification bridge would, and sends them through an in-memory `Endpoint`
// (queue → retries → HTTP) to a relay or any receiver.
//
//   bun emitter.ts [URL]
//
// URL / RELAY_URL      where to POST (default http://127.0.0.1:8787/v1/events, the `npm start` relay)
// RELAY_INGEST_TOKEN   bearer token sent as Authorization (the relay's RELAY_INGEST_TOKENS)
// REPOSITORY, TAG      what to push (default demo/hello:v1)
// MAX_ATTEMPTS         attempts per event before it is dead-lettered (default 5)
// BACKOFF              base retry delay, a Go duration such as 250ms (default 250ms)
//
// stdout: one `queued …` line per event, then `metrics {…}`. Exit code 1 if any event was
// dead-lettered, 2 for bad settings.
import { Endpoint, type Event } from "registry-relay";
import { createBridge } from "registry-relay/bridge";
import { ConfigError, parseEndpointConfig } from "registry-relay/config";
import { buildImage } from "./image.ts";

function fail(message: string): never {
  console.error(`bun-emitter: ${message}`);
  process.exit(2);
}

if (Bun.argv.includes("--help") || Bun.argv.includes("-h")) {
  console.log("usage: bun emitter.ts [URL]   (see the top of emitter.ts for the variables)");
  process.exit(0);
}

const url = Bun.argv[2] ?? Bun.env.RELAY_URL ?? "http://127.0.0.1:8787/v1/events";
const token = Bun.env.RELAY_INGEST_TOKEN ?? "";
const repository = Bun.env.REPOSITORY ?? "demo/hello";
const tag = Bun.env.TAG ?? "v1";
const backoff = Bun.env.BACKOFF ?? "250ms";
const maxAttemptsText = Bun.env.MAX_ATTEMPTS ?? "5";
if (!/^[1-9]\d*$/.test(maxAttemptsText)) {
  fail(`MAX_ATTEMPTS must be an integer >= 1, got "${maxAttemptsText}"`);
}

let deadLettered = 0;
let endpoint: Endpoint;
try {
  endpoint = new Endpoint(
    "relay",
    url,
    // From the environment, so checked as a config file is: Go durations, bounds, key names.
    parseEndpointConfig({
      // A list, as in distribution's config: `headers: { Authorization: [Bearer <token>] }`.
      headers: token ? { Authorization: [`Bearer ${token}`] } : {},
      timeout: "5s",
      strategy: { type: "exponential", base: backoff, factor: backoff, max: "5s" },
      maxAttempts: Number(maxAttemptsText),
    }),
    {
      onDeadLetter: (letter) => {
        deadLettered += letter.events.length;
        const last =
          letter.lastError instanceof Error ? letter.lastError.message : String(letter.lastError);
        for (const event of letter.events) {
          console.error(
            `dead letter (${letter.reason} after ${letter.attempts} attempt(s)): ${event.action} id=${event.id}: ${last}`,
          );
        }
      },
    },
  );
} catch (error) {
  if (error instanceof ConfigError || error instanceof TypeError) fail(error.message);
  throw error;
}

// Every registry request has its own request record; source and actor stay the same.
const source = { addr: "bun-emitter:5000", instanceID: crypto.randomUUID() };
const useragent = `bun-emitter/0.1 (Bun ${Bun.version})`;
function requestBridge(method: string) {
  return createBridge({
    source,
    actor: { name: "bun-emitter" },
    request: {
      id: crypto.randomUUID(),
      addr: "127.0.0.1:50000",
      host: "registry.local:5000",
      method,
      useragent,
    },
    baseUrl: "http://registry.local:5000",
    ids: "v7",
  });
}

function reference(event: Event): string {
  const { tag, digest } = event.target;
  return `${event.target.repository}${tag ? `:${tag}` : ""}${digest ? `@${digest}` : ""}`;
}

async function emit(event: Event): Promise<void> {
  // Resolves once the event is in the endpoint's queue; delivery runs in the background.
  await endpoint.write(event);
  console.log(`queued ${event.action} ${reference(event)} id=${event.id}`);
}

const image = await buildImage({
  "etc/motd": "pushed by bun-emitter\n",
  "usr/share/hello.txt": `hello from ${repository}:${tag}\n`,
});

// docker push: the blobs first (config, then the layers), then the manifest under its tag.
for (const blob of [image.config, ...image.layers]) {
  await emit(requestBridge("PUT").blobPushed(repository, { digest: blob.digest, size: blob.size }));
}
const { mediaType, digest, size } = image.manifest;
await emit(requestBridge("PUT").manifestPushed(repository, { mediaType, digest, size }, { tag }));
// DELETE /v2/<repository>/manifests/<tag>
await emit(requestBridge("DELETE").tagDeleted(repository, tag));

// Drains the queue: every event is delivered or dead-lettered before this resolves.
await endpoint.close();
const metrics = endpoint.metrics();
console.log(`metrics ${JSON.stringify(metrics)}`);
if (deadLettered > 0 || metrics.pending > 0) {
  console.error(
    `bun-emitter: ${deadLettered} of ${metrics.events} event(s) dead-lettered (${endpoint.url})`,
  );
  process.exit(1);
}
console.error(`bun-emitter: ${metrics.events} event(s) delivered to ${endpoint.url}`);
