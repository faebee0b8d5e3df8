// Where the shared test server (test/support/server.mjs) listens, whatever the runtime:
// vitest (Node, workerd, Chromium) defines __RELAY_TEST_SERVER__ at bundle time; the Deno and Bun
// runs get RELAY_TEST_SERVER in their environment from scripts/test.mjs.
declare const __RELAY_TEST_SERVER__: string | undefined;

type Globals = {
  process?: { env?: Record<string, string | undefined> };
  Deno?: { env: { get(name: string): string | undefined } };
};

function locate(): string {
  if (typeof __RELAY_TEST_SERVER__ === "string") return __RELAY_TEST_SERVER__;
  const g = globalThis as Globals;
  const fromEnv = g.process?.env?.RELAY_TEST_SERVER ?? g.Deno?.env.get("RELAY_TEST_SERVER");
  if (fromEnv) return fromEnv;
  throw new Error("RELAY_TEST_SERVER is not set: start test/support/server.mjs first");
}

/** Base URL of the test server, e.g. `http://127.0.0.1:40123`. */
export const serverUrl: string = locate();

/** One captured registry request body, byte for byte. */
export interface Fixture {
  name: string;
  bytes: Uint8Array;
  text: string;
}

let cache: Promise<Fixture[]> | undefined;

/** Every fixture of `test/fixtures/distribution-2.8.2`, in capture order. */
export function loadFixtures(): Promise<Fixture[]> {
  cache ??= (async () => {
    const names: string[] = await (await fetch(`${serverUrl}/fixtures/index.json`)).json();
    return Promise.all(
      names.map(async (name) => {
        const bytes = new Uint8Array(
          await (await fetch(`${serverUrl}/fixtures/${name}`)).arrayBuffer(),
        );
        return { name, bytes, text: new TextDecoder().decode(bytes) };
      }),
    );
  })();
  return cache;
}

/** Recorded requests of an inbox bucket on the test server. */
export interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Reads (and optionally clears) what the server recorded for `bucket`. */
export async function inbox(bucket: string): Promise<Recorded[]> {
  return (await fetch(`${serverUrl}/inbox/${bucket}`)).json();
}

/** Clears an inbox bucket (and its flaky counter). */
export async function clearInbox(bucket: string): Promise<void> {
  await (await fetch(`${serverUrl}/inbox/${bucket}`, { method: "DELETE" })).arrayBuffer();
}
