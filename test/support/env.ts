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

let registryIndex: Promise<string[]> | undefined;
const registryFiles = new Map<string, Promise<Fixture>>();

async function fetchRegistryFile(path: string): Promise<Fixture> {
  const response = await fetch(`${serverUrl}/registries/${path}`);
  if (!response.ok) throw new Error(`no registry fixture ${path} (${response.status})`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { name: path, bytes, text: new TextDecoder().decode(bytes) };
}

/**
 * One file of `test/fixtures/registries` by its path there, e.g.
 * `harbor/website-default-push-artifact.json` or `standards/cloudevents/schema/cloudevents.json`
 * (`name` is that path). Fetched once per test file.
 */
export function registryFixture(path: string): Promise<Fixture> {
  let file = registryFiles.get(path);
  if (file === undefined) {
    file = fetchRegistryFile(path);
    registryFiles.set(path, file);
  }
  return file;
}

/**
 * The paths of the files of `test/fixtures/registries` (other registries' payloads as their
 * vendors publish them, the standards' schemas and examples, FORMATS.md and SOURCES.md), sorted;
 * `under` keeps one folder, e.g. `"harbor"` or `"standards/cloudevents"`.
 */
export async function registryFixturePaths(under?: string): Promise<string[]> {
  registryIndex ??= fetch(`${serverUrl}/registries/index.json`).then((r) => r.json());
  const prefix = under === undefined ? "" : `${under.replace(/\/+$/, "")}/`;
  return (await registryIndex).filter((path) => path.startsWith(prefix));
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

/**
 * An inbox bucket (or test case) name no other test or project of the run uses: core-node and
 * core-workerd share one test server.
 */
export const uniqueBucket = (prefix: string): string =>
  `${prefix}-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
