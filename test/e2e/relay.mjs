// The relay under test: `wrangler dev` (the runtime `npm start` uses) on 127.0.0.1 with local
// persistence in a directory of ours, so a killed relay restarts on the same state.
import { repoRoot, startRelay as startRelayProcess } from "../support/relay-process.mjs";
import { trackGroup } from "./procs.mjs";

export { repoRoot };

/**
 * Starts `wrangler dev` and waits until `GET /healthz` answers 200.
 * @param {{ port: number, inspectorPort: number, persistDir: string, logFile: string,
 *   vars: Record<string, string>, timeoutMs?: number }} options
 */
export async function startRelay({ port, inspectorPort, persistDir, logFile, vars, timeoutMs }) {
  const startedAt = Date.now();
  const relay = await startRelayProcess({
    port,
    inspectorPort,
    persistDir,
    logFile,
    vars,
    timeoutMs: timeoutMs ?? 60_000,
    extraArgs: ["--log-level", "info"],
    onSpawn: (pid, exited) => trackGroup("relay", pid, exited),
  });
  const proc = { pid: relay.pid, label: "relay", exited: relay.exited, stop: relay.stop };
  return { proc, base: relay.url, port, startMs: Date.now() - startedAt };
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
