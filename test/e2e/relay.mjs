// The relay under test: `wrangler dev` (the runtime `npm start` uses) on 127.0.0.1 with local
// persistence in a directory of ours, so a killed relay restarts on the same state.
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startProcess, waitFor } from "./procs.mjs";

export const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const wrangler = join(repoRoot, "node_modules", ".bin", "wrangler");

/**
 * Starts `wrangler dev` and waits until `GET /healthz` answers 200.
 * @param {{ port: number, inspectorPort: number, persistDir: string, logFile: string,
 *   vars: Record<string, string>, timeoutMs?: number }} options
 */
export async function startRelay({ port, inspectorPort, persistDir, logFile, vars, timeoutMs }) {
  const args = [
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persistDir,
    "--show-interactive-dev-session=false",
    "--log-level",
    "info",
  ];
  for (const [key, value] of Object.entries(vars)) args.push("--var", `${key}:${value}`);
  const startedAt = Date.now();
  const proc = startProcess("relay", wrangler, args, {
    cwd: repoRoot,
    logFile,
    env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
  let exited = null;
  proc.exited.then((how) => {
    exited = how;
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    `the relay on ${base}/healthz`,
    async () => {
      if (exited)
        throw new Error(`wrangler dev exited (${JSON.stringify(exited)}); see ${logFile}`);
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
      return res.status === 200;
    },
    { timeoutMs: timeoutMs ?? 60_000, intervalMs: 200 },
  );
  return { proc, base, port, startMs: Date.now() - startedAt };
}

/** `GET /v1/endpoints` (admin): the relay's own view, for diagnostics in failure messages. */
export async function relayEndpoints(base, adminToken) {
  try {
    const res = await fetch(`${base}/v1/endpoints`, {
      headers: { authorization: `Bearer ${adminToken}` },
      signal: AbortSignal.timeout(3000),
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  } catch (error) {
    return { error: String(error) };
  }
}
