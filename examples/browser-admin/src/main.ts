// The console's entry point: connection (relay URL remembered, admin token in sessionStorage
// only, never in a URL: a launch link's `#relay=...&token=...` is read once and removed), tabs,
// live refresh, and the admin actions behind confirmations.
import { AdminApiError, AdminClient, type EndpointView, normaliseRelayUrl } from "./api.ts";
import { confirmAction } from "./dialog.ts";
import { byId, setText } from "./dom.ts";
import { EndpointDetail } from "./endpoint-detail.ts";
import { EndpointsView } from "./endpoints-view.ts";
import { formatCount } from "./format.ts";
import { takeLaunchLink } from "./launch-link.ts";
import { Poller, type PollOutcome } from "./poller.ts";
import { QueueView } from "./queue-view.ts";
import { SignatureView } from "./signature-view.ts";
import { toast } from "./toast.ts";
import { ValidatorView } from "./validator-view.ts";

const relayKey = "registry-relay-admin:relay-url";
const tokenKey = "registry-relay-admin:token";
const refreshMs = 2000;
const defaultRelay = "http://127.0.0.1:8787";

type Tab = "endpoints" | "queue" | "validator" | "signature";

const form = byId("connect", HTMLFormElement);
const relayInput = byId("relay-url", HTMLInputElement);
const tokenInput = byId("admin-token", HTMLInputElement);
const disconnectButton = byId("disconnect-button", HTMLButtonElement);
const connDot = byId("conn-dot", HTMLSpanElement);
const connText = byId("conn-text", HTMLSpanElement);
const deadCount = byId("tab-count-dead", HTMLSpanElement);
const endpointCount = byId("tab-count-endpoints", HTMLSpanElement);

let client: AdminClient | null = null;
let endpoints: EndpointView[] = [];
let fetchedAt = 0;
let lastOk = 0;
let tab: Tab = "endpoints";

const endpointsView = new EndpointsView({
  pause: (name) => void pauseEndpoint(name),
  resume: (name) => void resumeEndpoint(name),
  showQueue: (name) => {
    queueView.show(name);
    selectTab("queue");
  },
  showDetail: (name) => detailView.show(name),
});

const detailView = new EndpointDetail(() => {
  endpointsView.selected = detailView.name;
  const now = Date.now();
  if (endpoints.length > 0) endpointsView.render(endpoints, fetchedAt, now);
  detailView.render(endpoints, fetchedAt, now);
});

const queueView = new QueueView({ replay, purge });
queueView.onChange(() => {
  queueView.render(Date.now());
  poller.refreshNow();
});
new ValidatorView();
new SignatureView();

const poller = new Poller(refresh, {
  intervalMs: refreshMs,
  isFatal: (error) => error instanceof AdminApiError && error.isAuth,
  retryAfterMs: (error) => (error instanceof AdminApiError ? error.retryAfterMs : undefined),
  onOutcome: showOutcome,
});

async function refresh(signal: AbortSignal): Promise<void> {
  if (!client) return;
  const current = client;
  const list = await current.endpoints(signal);
  if (client !== current) return;
  endpoints = list;
  fetchedAt = Date.now();
  endpointsView.render(endpoints, fetchedAt, fetchedAt);
  detailView.render(endpoints, fetchedAt, fetchedAt);
  queueView.setEndpoints(endpoints);
  const dead = endpoints.reduce((n, e) => n + e.deadLetters, 0);
  setText(deadCount, dead > 0 ? formatCount(dead) : "");
  deadCount.className = dead > 0 ? "count bad" : "count";
  setText(endpointCount, formatCount(endpoints.length));
  if (tab === "queue") await queueView.refresh(current, signal);
}

function setConnection(tone: "ok" | "warn" | "bad" | "none", text: string): void {
  connDot.className = `dot ${tone}`;
  setText(connText, text);
}

function describeError(error: unknown): string {
  if (error instanceof AdminApiError) {
    return error.status === 0 ? error.message : `${error.status} ${error.code}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function showOutcome(outcome: PollOutcome): void {
  if (outcome.ok) {
    lastOk = outcome.at;
    setConnection("ok", `Live · ${client?.baseUrl ?? ""} · updated just now`);
    return;
  }
  const why = describeError(outcome.error);
  if (outcome.retryInMs === null) {
    setConnection("bad", `Stopped: ${why}`);
    if (endpoints.length === 0) {
      endpointsView.showMessage("The relay refused the admin token", why, "bad");
      queueView.showMessage("The relay refused the admin token", why, "bad");
    }
    toast("bad", `The relay refused the admin token (${why}). Check it and connect again.`);
    return;
  }
  const retry = `retrying in ${Math.ceil(outcome.retryInMs / 1000)} s`;
  setConnection("warn", `${why} · ${retry}${lastOk ? ` · last good data ${ago(lastOk)}` : ""}`);
  if (endpoints.length === 0) {
    endpointsView.showMessage("Cannot load the endpoints", `${why} (${retry}).`, "bad");
  }
}

function ago(at: number): string {
  const seconds = Math.round((Date.now() - at) / 1000);
  return seconds < 2 ? "just now" : `${seconds} s ago`;
}

// Ages and countdowns tick every second between refreshes, from the data already fetched.
setInterval(() => {
  if (!client || endpoints.length === 0) return;
  const now = Date.now();
  endpointsView.render(endpoints, fetchedAt, now);
  detailView.render(endpoints, fetchedAt, now);
  if (tab === "queue") queueView.render(now);
  if (poller.active && lastOk && now - lastOk >= 1000 && connDot.classList.contains("ok")) {
    setConnection("ok", `Live · ${client.baseUrl} · updated ${ago(lastOk)}`);
  }
}, 1000);

function connect(baseUrl: string, token: string): void {
  try {
    client = new AdminClient(baseUrl, token);
  } catch (error) {
    toast("bad", (error as Error).message);
    return;
  }
  endpoints = [];
  lastOk = 0;
  relayInput.value = client.baseUrl;
  disconnectButton.disabled = false;
  setConnection("warn", `Connecting to ${client.baseUrl}…`);
  endpointsView.showMessage("Loading…", `Asking ${client.baseUrl} for its endpoints.`);
  detailView.clear();
  queueView.clear();
  poller.start();
}

function disconnect(): void {
  poller.stop();
  client = null;
  endpoints = [];
  sessionStorage.removeItem(tokenKey);
  tokenInput.value = "";
  disconnectButton.disabled = true;
  setText(deadCount, "");
  setText(endpointCount, "");
  setConnection("none", "Not connected. Enter the relay URL and the admin token.");
  endpointsView.showMessage(
    "Not connected",
    "Enter the relay's URL and its admin token above. The token stays in this tab (sessionStorage) and is only sent to the relay.",
  );
  detailView.clear();
  queueView.clear();
}

form.addEventListener("submit", (event) => {
  // Never let the browser submit the form: the token must not end up in a URL.
  event.preventDefault();
  let baseUrl: string;
  try {
    baseUrl = normaliseRelayUrl(relayInput.value);
  } catch (error) {
    toast("bad", (error as Error).message);
    relayInput.focus();
    return;
  }
  const token = tokenInput.value.trim();
  if (token === "") {
    toast("bad", "Admin token: enter the relay's RELAY_ADMIN_TOKEN.");
    tokenInput.focus();
    return;
  }
  localStorage.setItem(relayKey, baseUrl);
  sessionStorage.setItem(tokenKey, token);
  connect(baseUrl, token);
});
disconnectButton.addEventListener("click", disconnect);

async function act(
  name: string,
  what: string,
  action: (c: AdminClient) => Promise<string>,
): Promise<void> {
  if (!client) return;
  endpointsView.busy.add(name);
  endpointsView.render(endpoints, fetchedAt, Date.now());
  try {
    toast("ok", await action(client));
  } catch (error) {
    toast("bad", `${what} failed: ${describeError(error)}`);
  } finally {
    endpointsView.busy.delete(name);
    poller.refreshNow();
  }
}

async function pauseEndpoint(name: string): Promise<void> {
  const reason = await confirmAction({
    title: `Pause ${name}?`,
    message:
      "Delivery stops after the attempt in flight. Events keep being accepted and queued; resume delivers them in order.",
    confirmLabel: "Pause delivery",
    input: {
      label: "Reason (shown to other operators)",
      placeholder: "receiver maintenance",
      maxLength: 200,
    },
  });
  if (reason === null) return;
  await act(name, `Pausing ${name}`, async (c) => {
    await c.pause(name, reason || undefined);
    return `Paused ${name}.`;
  });
}

async function resumeEndpoint(name: string): Promise<void> {
  await act(name, `Resuming ${name}`, async (c) => {
    await c.resume(name);
    return `Resumed ${name}: the queue head is attempted now.`;
  });
}

async function replay(name: string, ids?: string[]): Promise<void> {
  await act(name, `Replaying dead letters of ${name}`, async (c) => {
    const replayed = await c.replay(name, ids);
    return `Replayed ${formatCount(replayed)} dead letter${replayed === 1 ? "" : "s"} of ${name}; they are queued again in their original order.`;
  });
}

async function purge(name: string, count: number): Promise<void> {
  const answer = await confirmAction({
    title: `Purge the dead letters of ${name}?`,
    message: `This deletes ${formatCount(count)} dead letter${count === 1 ? "" : "s"} for good. They cannot be replayed afterwards.`,
    confirmLabel: "Purge dead letters",
    tone: "danger",
  });
  if (answer === null) return;
  await act(name, `Purging ${name}`, async (c) => {
    const purged = await c.purge(name);
    return `Purged ${formatCount(purged)} dead letter${purged === 1 ? "" : "s"} of ${name}.`;
  });
}

// Tabs (WAI-ARIA tabs pattern: arrow keys move between them).
const tabs: Tab[] = ["endpoints", "queue", "validator", "signature"];

function selectTab(next: Tab, focus = false): void {
  tab = next;
  for (const name of tabs) {
    const button = byId(`tab-${name}`, HTMLButtonElement);
    const selected = name === next;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    byId(`panel-${name}`, HTMLElement).hidden = !selected;
    if (selected && focus) button.focus();
  }
  if (next === "queue") {
    queueView.render(Date.now());
    poller.refreshNow();
  }
}

for (const name of tabs) {
  const button = byId(`tab-${name}`, HTMLButtonElement);
  button.addEventListener("click", () => selectTab(name));
  button.addEventListener("keydown", (event) => {
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    selectTab(tabs[(tabs.indexOf(name) + step + tabs.length) % tabs.length] as Tab, true);
  });
}

// A file dropped outside a drop zone must not navigate away from the console.
for (const type of ["dragover", "drop"] as const) {
  window.addEventListener(type, (event) => {
    if (event.dataTransfer?.types.includes("Files")) event.preventDefault();
  });
}

// Start: the relay URL is remembered (not a secret); the token only for this tab's session.
// A launch link (`npm start` prints one) wins over both, and is gone from the URL from here on.
const launch = takeLaunchLink();
relayInput.value = localStorage.getItem(relayKey) ?? defaultRelay;
let savedToken = sessionStorage.getItem(tokenKey);
disconnect();
if (launch) {
  try {
    const relay = normaliseRelayUrl(launch.relay ?? relayInput.value);
    localStorage.setItem(relayKey, relay);
    relayInput.value = relay;
    savedToken = launch.token;
  } catch (error) {
    toast("bad", `The link's relay is not usable: ${(error as Error).message}`);
    savedToken = null;
  }
}
if (savedToken) {
  sessionStorage.setItem(tokenKey, savedToken);
  tokenInput.value = savedToken;
  connect(relayInput.value, savedToken);
}
