// deno-receiver: receive registry notifications (from a registry or from the relay) with Deno.
//
//   deno run --allow-net=127.0.0.1 --allow-env=PORT,RECEIVER_TOKENS,WEBHOOK_SECRET main.ts [--port N]
//
// PORT / --port      port on 127.0.0.1 (default 8789; 0 picks a free one)
// RECEIVER_TOKENS    comma-separated bearer tokens to require (optional)
// WEBHOOK_SECRET     Standard Webhooks secret(s) whsec_..., comma-separated (optional): when set,
//                    unsigned or badly signed requests get 401
//
// stdout: one line per new event. stderr: the listening address, refusals and duplicates.
import { signWebhook } from "registry-relay";
import { createReceiver } from "./receiver.ts";

const defaultPort = 8789;

function fail(message: string): never {
  console.error(`deno-receiver: ${message}`);
  Deno.exit(2);
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function portFrom(args: string[], env: string | undefined): number {
  const flag = args.indexOf("--port");
  const inline = args.find((arg) => arg.startsWith("--port="));
  const raw =
    flag >= 0 ? args[flag + 1] : inline ? inline.slice("--port=".length) : (env ?? undefined);
  if (raw === undefined || raw === "") return defaultPort;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) fail(`port must be an integer 0-65535, got "${raw}"`);
  return port;
}

const port = portFrom(Deno.args, Deno.env.get("PORT"));
const tokens = list(Deno.env.get("RECEIVER_TOKENS"));
const secrets = list(Deno.env.get("WEBHOOK_SECRET"));

// A bad secret would turn every request into a 401: refuse to start instead.
for (const [index, secret] of secrets.entries()) {
  try {
    await signWebhook({ secret, id: "startup-check", timestamp: 0, body: "" });
  } catch {
    fail(`WEBHOOK_SECRET[${index}] is not a Standard Webhooks secret (whsec_ followed by base64)`);
  }
}

const app = createReceiver({
  tokens,
  ...(secrets.length > 0 && { secret: secrets }),
  print: (line) => console.log(line),
  log: (line) => console.error(line),
});

const server = Deno.serve(
  {
    hostname: "127.0.0.1",
    port,
    onListen: ({ hostname, port }) => {
      const signatures = secrets.length > 0 ? "required" : "not checked";
      const token = tokens.length > 0 ? "required" : "not required";
      console.error(
        `deno-receiver listening on http://${hostname}:${port}/events (signatures ${signatures}, bearer token ${token})`,
      );
    },
  },
  app.fetch,
);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(signal, () => {
    console.error(`deno-receiver: ${signal}, shutting down`);
    server.shutdown();
  });
}
await server.finished;
