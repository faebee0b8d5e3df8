#!/usr/bin/env node
// A tiny endpoint for `npm start`: listens on 127.0.0.1:8788 (PORT), prints one line per
// received event and, when the relay signs (DEMO_WEBHOOK_SECRET = the endpoint's `secret`),
// whether the Standard Webhooks signature checks out. Answers 200 to every POST.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 8788);
const host = process.env.HOST ?? "127.0.0.1";
const secret = process.env.DEMO_WEBHOOK_SECRET ?? "";
const toleranceSeconds = 300;

/** "valid" | "INVALID (<why>)" | "unsigned" for a Standard Webhooks request. */
function checkSignature(headers, body, whsec) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (!id && !timestamp && !signatures) return whsec ? "INVALID (unsigned)" : "unsigned";
  if (!whsec) return "signed (set DEMO_WEBHOOK_SECRET to check)";
  if (!id || !timestamp || !signatures) return "INVALID (missing webhook-* header)";
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) {
    return "INVALID (timestamp outside 5 minutes)";
  }
  const key = Buffer.from(whsec.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest();
  for (const part of String(signatures).split(" ")) {
    const [version, value] = part.split(",", 2);
    if (version !== "v1" || !value) continue;
    const given = Buffer.from(value, "base64");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return "valid";
  }
  return "INVALID (no matching v1 signature)";
}

function describe(event) {
  const target = event.target ?? {};
  const ref = target.tag
    ? `:${target.tag}`
    : target.digest
      ? `@${String(target.digest).slice(0, 19)}`
      : "";
  const kind = target.mediaType ? ` (${target.mediaType})` : "";
  return `${event.action ?? "?"} ${target.repository ?? "?"}${ref}${kind} id=${event.id ?? "?"}`;
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const body = Buffer.concat(chunks);
    if (req.method !== "POST") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("registry-relay demo receiver: POST events here\n");
      return;
    }
    const time = new Date().toISOString().slice(11, 23);
    const signature = checkSignature(req.headers, body, secret);
    let events = [];
    try {
      events = JSON.parse(body.toString("utf8")).events ?? [];
    } catch {
      console.log(`[demo-receiver ${time}] ${req.url}: body is not JSON (${body.length} bytes)`);
    }
    for (const event of events) {
      console.log(
        `[demo-receiver ${time}] ${describe(event)} | ${req.headers["content-type"]} | signature: ${signature}`,
      );
    }
    res.writeHead(200);
    res.end();
  });
});

server.on("error", (error) => {
  console.error(`[demo-receiver] cannot listen on ${host}:${port}: ${error.message}`);
  process.exit(1);
});
server.listen(port, host, () => {
  console.log(
    `[demo-receiver] listening on http://${host}:${port}${secret ? " (checking signatures)" : ""}`,
  );
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
