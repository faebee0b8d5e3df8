// The real registry (Debian docker-registry = distribution 2.8.2), started by hand with a config
// of our own on 127.0.0.1, plus readers for its expvar notification metrics.
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run, startProcess, waitFor } from "./procs.mjs";

export const REGISTRY_BIN = "/usr/bin/docker-registry";

/** Installs docker-registry and skopeo from Debian when missing (root only). */
export async function ensureRegistryTools() {
  const missing = [];
  if (!existsSync(REGISTRY_BIN)) missing.push("docker-registry");
  if (!existsSync("/usr/bin/skopeo")) missing.push("skopeo");
  if (missing.length === 0) return [];
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages ${missing.join(", ")}; install them as root`);
  }
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const update = await run("apt-get", ["update"], { timeoutMs: 300_000, env });
  if (update.code !== 0) throw new Error(`apt-get update failed: ${update.stderr.slice(-2000)}`);
  const install = await run("apt-get", ["install", "-y", ...missing], { timeoutMs: 600_000, env });
  if (install.code !== 0) throw new Error(`apt-get install failed: ${install.stderr.slice(-2000)}`);
  return missing;
}

const yamlString = (s) => JSON.stringify(String(s)); // JSON strings are valid YAML scalars

/**
 * One `notifications.endpoints` entry.
 * @param {{name: string, url: string, headers?: Record<string, string>, timeout: string,
 *   threshold: number, backoff: string, ignore?: {mediatypes?: string[], actions?: string[]}}} e
 */
function endpointYaml(e) {
  const lines = [`    - name: ${yamlString(e.name)}`, `      url: ${yamlString(e.url)}`];
  if (e.headers && Object.keys(e.headers).length > 0) {
    lines.push("      headers:");
    for (const [k, v] of Object.entries(e.headers)) lines.push(`        ${k}: [${yamlString(v)}]`);
  }
  lines.push(`      timeout: ${e.timeout}`, `      threshold: ${e.threshold}`);
  lines.push(`      backoff: ${e.backoff}`);
  if (e.ignore) {
    lines.push("      ignore:");
    for (const key of ["mediatypes", "actions"]) {
      if (e.ignore[key])
        lines.push(`        ${key}: [${e.ignore[key].map(yamlString).join(", ")}]`);
    }
  }
  return lines.join("\n");
}

/** The registry's config.yml text. */
export function registryConfig({ storage, port, debugPort, endpoints }) {
  return `version: 0.1
log:
  level: info
  formatter: text
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: ${yamlString(storage)}
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
  secret: e2e-not-a-secret
  debug:
    addr: 127.0.0.1:${debugPort}
notifications:
  events:
    includereferences: false
  endpoints:
${endpoints.map(endpointYaml).join("\n")}
`;
}

/** Starts the registry and waits until `/v2/` answers. */
export async function startRegistry({ dir, storage, port, debugPort, endpoints }) {
  const configFile = join(dir, "registry-config.yml");
  await writeFile(configFile, registryConfig({ storage, port, debugPort, endpoints }));
  const proc = startProcess("registry", REGISTRY_BIN, ["serve", configFile], {
    logFile: join(dir, "registry.log"),
  });
  let exited = false;
  proc.exited.then(() => {
    exited = true;
  });
  // An exit ends the wait at once (a port taken meanwhile: the caller retries on others).
  await waitFor(
    "the registry on /v2/",
    async () => exited || (await fetch(`http://127.0.0.1:${port}/v2/`)).ok,
    { timeoutMs: 20_000 },
  );
  if (exited) throw new Error("the registry exited; see registry.log");
  const base = `http://127.0.0.1:${port}`;
  return {
    proc,
    base,
    host: `127.0.0.1:${port}`,
    /** `registry.notifications.endpoints` from expvar, keyed by endpoint name. */
    async endpoints() {
      const res = await fetch(`http://127.0.0.1:${debugPort}/debug/vars`);
      const vars = await res.json();
      const list = vars.registry?.notifications?.endpoints ?? [];
      return Object.fromEntries(list.map((e) => [e.name, e]));
    },
    /** Waits until every endpoint's queue is empty (Pending 0 everywhere). */
    async drained(timeoutMs = 60_000) {
      return waitFor(
        "the registry's notification queues to drain",
        async () => {
          const all = await this.endpoints();
          return Object.values(all).every((e) => e.Metrics.Pending === 0) ? all : null;
        },
        { timeoutMs, intervalMs: 100 },
      );
    },
  };
}
