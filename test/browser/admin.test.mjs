// The admin console in real headless Chromium against a real relay (`wrangler dev`): failing
// endpoints fill the dead letters, the console lists them, the receiver recovers, replay drains
// the queue in order; pause/resume, purge, the envelope validator and the signature checker are
// driven through the page. Screenshots go to test/artifacts/browser-admin/.
// Run: npm run test:browser-admin (or node --test test/browser/admin.test.mjs)
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { buildConsole, consoleDir, formatSizes } from "../../examples/browser-admin/build.mjs";
import { serveConsole } from "../../examples/browser-admin/serve.mjs";
import {
  fixturesDir,
  freePort,
  launchChromium,
  loadFixture,
  repoRoot,
  startReceiver,
  startRelay,
  stopGroup,
  waitFor,
} from "./harness.mjs";

const artifacts = join(repoRoot, "test/artifacts/browser-admin");
const xssName = `legacy<img src=x onerror="window.__xss=1">`;
const uiTimeout = 20_000;

/** Fixtures by number, in capture order: pushes, pulls, mounts, then deletes. */
const fixtureNumbers = [...Array.from({ length: 25 }, (_, i) => i + 1), 38, 39, 40];

const state = {};

function fixtureNamed(number) {
  const prefix = String(number).padStart(3, "0");
  const file = readdirSync(fixturesDir).find(
    (n) => n.startsWith(`${prefix}-`) && n.endsWith(".json"),
  );
  if (!file) throw new Error(`fixture ${prefix} is missing in ${fixturesDir}`);
  return loadFixture(file.slice(0, -".json".length));
}

async function ingest(fixture) {
  const res = await fetch(`${state.relay.base}/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${state.ingestToken}`, "content-type": fixture.contentType },
    body: fixture.body,
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 202, `ingest of ${fixture.name}: ${await res.text()}`);
}

async function admin(path, init = {}) {
  const res = await fetch(`${state.relay.base}/v1/endpoints${path}`, {
    ...init,
    headers: { authorization: `Bearer ${state.adminToken}`, ...init.headers },
    signal: AbortSignal.timeout(10_000),
  });
  assert.ok(res.ok, `admin ${path}: ${res.status}`);
  return res.json();
}

const endpointState = (name) => admin(`/${encodeURIComponent(name)}`);

async function shot(name) {
  const path = join(artifacts, `${name}.png`);
  await state.page.screenshot({ path });
  state.screenshots.push(path);
}

/** The cells' text of the endpoints table row of `name`. */
function endpointRow(name) {
  return state.page.evaluate((key) => {
    const row = [...document.querySelectorAll("#endpoints-body tr")].find(
      (r) => r.dataset.key === key,
    );
    if (!row) return null;
    const cell = (i) => row.cells[i]?.textContent.trim() ?? "";
    return {
      name: row.querySelector(".name")?.textContent ?? "",
      state: cell(1),
      pending: cell(2),
      oldest: cell(3),
      dead: cell(4),
      last: cell(5),
      next: cell(6),
      height: row.getBoundingClientRect().height,
    };
  }, name);
}

/** The label → value pairs of a `<dl class="facts">` of the endpoint detail panel. */
function detailFacts(selector) {
  return state.page.$$eval(`${selector} .fact`, (facts) =>
    Object.fromEntries(
      facts.map((fact) => [
        fact.querySelector("dt").textContent,
        fact.querySelector("dd").textContent,
      ]),
    ),
  );
}

/**
 * A chart of the detail panel as drawn: per series its name, the svg's role and aria-label, each
 * bar's height (viewBox units, 0-100) and the total; the axis labels; the numbers table.
 */
function chartOf(selector) {
  return state.page.$eval(selector, (chart) => ({
    series: [...chart.querySelectorAll(".chart-rows > .chart-row")].map((row) => {
      const svg = row.querySelector("svg");
      return {
        name: row.querySelector(".chart-name").textContent,
        role: svg.getAttribute("role"),
        label: svg.getAttribute("aria-label") ?? "",
        heights: [...svg.querySelectorAll("rect")].map((rect) =>
          Number(rect.getAttribute("height")),
        ),
        total: row.querySelector(".chart-total").textContent,
      };
    }),
    ticks: [...chart.querySelectorAll(".chart-ticks > span")].map((span) => span.textContent),
    caption: chart.querySelector("caption")?.textContent ?? "",
    head: [...chart.querySelectorAll("thead th")].map((th) => th.textContent),
    rows: [...chart.querySelectorAll("tbody tr")].map((tr) =>
      [...tr.children].map((cell) => cell.textContent),
    ),
  }));
}

/** The bar heights a chart draws for `values`: on the series' own scale, a count never flat. */
const barHeights = (values) => {
  const most = Math.max(1, ...values);
  return values.map((n) => (n > 0 ? Math.max(2, (n / most) * 100) : 0));
};
const near = (a, b) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-6);
const sum = (values) => values.reduce((a, b) => a + b, 0);

/**
 * Whether the "Last hour" chart shows the relay's `activity`: the same bars for each series, the
 * totals, and a table row for each minute with anything in it.
 */
async function activityShown(activity) {
  const chart = await chartOf("#detail-activity");
  const series = [activity.delivered, activity.failed, activity.deadLettered];
  const rows = activity.delivered.filter((_, i) => series.some((values) => values[i] > 0));
  return (
    chart.series.length === 3 &&
    chart.series.every(
      (drawn, i) =>
        near(drawn.heights, barHeights(series[i])) &&
        drawn.total === sum(series[i]).toLocaleString("en-US"),
    ) &&
    chart.rows.length === rows.length &&
    chart
  );
}

/** The cells' text of the detail panel's partition rows. */
function partitionRows() {
  return state.page.$$eval("#detail-partitions tr", (rows) =>
    rows.map((row) => [...row.cells].map((cell) => cell.textContent.trim())),
  );
}

/** The lowest text/background contrast ratio (WCAG) among badges and pills on the page. */
function lowestBadgeContrast() {
  return state.page.evaluate(() => {
    const rgb = (text) =>
      text
        .match(/[\d.]+/g)
        .slice(0, 3)
        .map(Number);
    const luminance = ([r, g, b]) => {
      const [R, G, B] = [r, g, b].map((v) => {
        const c = v / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * R + 0.7152 * G + 0.0722 * B;
    };
    let lowest = { ratio: Infinity, text: "" };
    for (const element of document.querySelectorAll(
      ".badge, .count-pill, .tab .count:not(:empty)",
    )) {
      const style = getComputedStyle(element);
      const [a, b] = [luminance(rgb(style.color)), luminance(rgb(style.backgroundColor))];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < lowest.ratio) lowest = { ratio, text: element.textContent };
    }
    return lowest;
  });
}

function queueRows() {
  return state.page.$$eval("#queue-body tr", (rows) =>
    rows.map((row) => ({
      id: row.dataset.key,
      seq: row.cells[1].textContent.trim(),
      action: row.cells[3].textContent.trim(),
      repository: row.cells[4].textContent.trim(),
      status: row.cells[6].textContent.trim(),
      reason: row.cells[7].querySelector(".cell-main")?.textContent ?? "",
    })),
  );
}

/** One endpoint's output format and `match` keys, shown in the list and the detail. */
const routing = { format: "cloudevents", match: { repositories: ["harness/*"] } };

describe("browser admin console", { timeout: 240_000 }, () => {
  before(async () => {
    state.screenshots = [];
    state.requests = [];
    await mkdir(artifacts, { recursive: true });
    state.tmp = await mkdtemp(join(tmpdir(), "relay-admin-"));
    state.built = await buildConsole({ outdir: join(state.tmp, "console") });
    console.log(`bundle sizes (minified, gzip -9):\n${formatSizes(state.built)}`);

    state.console = await serveConsole({ port: 0, dir: state.built.outdir });
    state.receiver = await startReceiver({
      "/ci": 400,
      "/audit": 200,
      "/legacy": 404,
      "/mirror": 503,
    });
    state.ingestToken = randomBytes(16).toString("hex");
    state.adminToken = randomBytes(16).toString("hex");
    const r = state.receiver.base;
    const endpoints = [
      {
        name: "ci-trigger",
        url: `${r}/ci`,
        timeout: "2s",
        backoff: "20ms",
        ignore: { actions: ["pull"] },
      },
      { name: "audit-log", url: `${r}/audit`, timeout: "2s", backoff: "20ms" },
      {
        name: "mirror-eu",
        url: `${r}/mirror`,
        timeout: "2s",
        threshold: 1,
        backoff: "4s",
        partitions: 2,
        ignore: { actions: ["pull", "mount"] },
      },
      // Always 404: its events are never parsed, whatever the format it is sent in.
      { name: xssName, url: `${r}/legacy`, timeout: "2s", backoff: "20ms", ...routing },
    ];
    const [port, inspectorPort] = [await freePort(), await freePort()];
    state.relay = await startRelay({
      port,
      inspectorPort,
      persistDir: join(state.tmp, "state"),
      logFile: join(artifacts, "relay.log"),
      vars: {
        RELAY_ENDPOINTS: JSON.stringify(endpoints),
        RELAY_INGEST_TOKENS: state.ingestToken,
        RELAY_ADMIN_TOKEN: state.adminToken,
        RELAY_CORS_ORIGINS: state.console.url,
      },
    });

    state.fixtures = fixtureNumbers.map(fixtureNamed);
    for (const fixture of state.fixtures) await ingest(fixture);
    const ids = state.fixtures.flatMap((f) => f.events.map((e) => e.id));
    assert.equal(new Set(ids).size, ids.length, "the chosen fixtures have distinct event ids");
    state.ciIds = state.fixtures.flatMap((f) =>
      f.events.filter((e) => e.action !== "pull").map((e) => e.id),
    );

    Object.assign(state, await launchChromium(900));
    state.pageErrors = [];
    state.page.on("pageerror", (error) => state.pageErrors.push(error));
    state.page.on("console", (message) => {
      // The browser logs each failed request (the refused token, the closed port) by itself.
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
        state.pageErrors.push(new Error(message.text()));
      }
    });
    state.page.on("request", (request) => state.requests.push(request.url()));
    state.page.on("dialog", (dialog) => {
      state.pageErrors.push(new Error(`unexpected native dialog: ${dialog.message()}`));
      void dialog.dismiss();
    });
  });

  after(async () => {
    await state.browser?.close().catch(() => {});
    await state.browserServer?.close().catch(() => {});
    if (state.browserPid) await stopGroup(state.browserPid);
    await state.relay?.stop();
    await state.console?.close();
    await state.receiver?.close();
    if (state.tmp) await rm(state.tmp, { recursive: true, force: true });
    if (state.screenshots?.length) console.log(`screenshots:\n  ${state.screenshots.join("\n  ")}`);
  });

  it("keeps the console's JS small and never builds HTML from strings", () => {
    const { console: app, core } = state.built;
    assert.ok(app.gzip < 40 * 1024, `console JS is ${app.gzip} bytes min+gzip`);
    assert.ok(core.gzip > 0);
    const sources = readdirSync(join(consoleDir, "src")).map((n) =>
      readFileSync(join(consoleDir, "src", n), "utf8"),
    );
    for (const source of sources) {
      assert.doesNotMatch(source, /\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write/);
    }
  });

  it("the relay answers CORS only for the configured console origin", async () => {
    const preflight = (origin) =>
      fetch(`${state.relay.base}/v1/endpoints`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "GET",
          "access-control-request-headers": "authorization",
        },
      });
    const allowed = await preflight(state.console.url);
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get("access-control-allow-origin"), state.console.url);
    const refused = await preflight("http://127.0.0.1:1");
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get("access-control-allow-origin"), null);
  });

  it("says why it cannot connect: unreachable relay, refused token", async () => {
    const { page } = state;
    await page.goto(`${state.console.url}/`);
    assert.match(await page.textContent("#endpoints-empty"), /Not connected/);
    const closed = `http://127.0.0.1:${await freePort()}`;
    await page.fill("#relay-url", closed);
    await page.fill("#admin-token", "not-the-token");
    await page.click("#connect-button");
    await page.waitForFunction(
      (text) =>
        document.getElementById("conn-text").textContent.includes(`cannot reach ${text}: `) &&
        /retrying in \d+ s/.test(document.getElementById("conn-text").textContent),
      closed,
      { timeout: uiTimeout },
    );
    assert.match(await page.textContent("#endpoints-empty"), /RELAY_CORS_ORIGINS/);

    await page.fill("#relay-url", state.relay.base);
    await page.click("#connect-button");
    await page.waitForFunction(
      () =>
        document.getElementById("conn-text").textContent.startsWith("Stopped: 401 unauthorized"),
      null,
      { timeout: uiTimeout },
    );
    assert.match(await page.textContent("#endpoints-empty"), /refused the admin token/);
    assert.equal(await page.getAttribute("#conn-dot", "class"), "dot bad");
    await shot("00-token-refused");
    for (const close of await page.$$(".toast-close")) await close.click();
    assert.equal(await page.locator(".toast").count(), 0, "notices can be dismissed");
  });

  it("connects with the token kept in sessionStorage, never in a URL", async () => {
    const { page } = state;
    await page.fill("#relay-url", state.relay.base);
    await page.fill("#admin-token", state.adminToken);
    await page.click("#connect-button");
    await page.waitForFunction(
      () => document.querySelectorAll("#endpoints-body tr").length === 4,
      null,
      {
        timeout: uiTimeout,
      },
    );
    assert.ok(!page.url().includes(state.adminToken));
    const storage = await page.evaluate(() => ({
      session: Object.values(sessionStorage),
      local: Object.values(localStorage),
    }));
    assert.ok(storage.session.includes(state.adminToken), "the token is in sessionStorage");
    assert.ok(!storage.local.includes(state.adminToken), "the token is not in localStorage");
    assert.ok(
      state.requests.every((url) => !url.includes(state.adminToken)),
      "no request URL holds the token",
    );
  });

  it("shows each endpoint's state, escaping what the relay says", async () => {
    const { page } = state;
    const deadCi = state.ciIds.length;
    await waitFor(
      `ci-trigger to show ${deadCi} dead letters`,
      async () => (await endpointRow("ci-trigger"))?.dead === String(deadCi),
      { timeoutMs: uiTimeout },
    );
    await waitFor(
      "mirror-eu to show it is retrying",
      async () => (await endpointRow("mirror-eu"))?.state.startsWith("Retrying"),
      {
        timeoutMs: uiTimeout,
      },
    );
    await waitFor(
      "audit-log to be drained",
      async () => {
        const row = await endpointRow("audit-log");
        return row?.pending === "0" && row.last.startsWith("200 OK");
      },
      { timeoutMs: uiTimeout },
    );
    const ci = await endpointRow("ci-trigger");
    assert.match(ci.state, /^Active/);
    assert.match(ci.last, /^400 Bad Request/);
    const mirror = await endpointRow("mirror-eu");
    assert.match(mirror.last, /^503 Service Unavailable/);
    assert.match(mirror.state, /2 partitions/);
    assert.notEqual(mirror.pending, "0");
    assert.match(mirror.next, /^(in |now)/);

    const hostile = await endpointRow(xssName);
    assert.equal(hostile.name, xssName, "the endpoint name is shown as text");
    assert.equal(
      await page.evaluate(() => window.__xss),
      undefined,
      "no markup from the relay ran",
    );
    assert.equal(await page.locator("main img").count(), 0);
    await shot("01-endpoints-failing");
    for (const scheme of ["light", "dark"]) {
      await page.emulateMedia({ colorScheme: scheme });
      const lowest = await lowestBadgeContrast();
      assert.ok(
        lowest.ratio >= 4.5,
        `${scheme}: "${lowest.text}" has contrast ${lowest.ratio.toFixed(2)}`,
      );
      if (scheme === "dark") await shot("01-endpoints-failing-dark");
    }
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("shows each endpoint's output format and match rules, in the list and the detail", async () => {
    const { page } = state;
    const formats = await page.$$eval("#endpoints-body tr", (rows) =>
      Object.fromEntries(
        rows.map((row) => [row.dataset.key, row.querySelector(".fmt").textContent]),
      ),
    );
    assert.deepEqual(formats, {
      "ci-trigger": "distribution",
      "audit-log": "distribution",
      "mirror-eu": "distribution",
      [xssName]: "cloudevents · filtered",
    });
    const legacy = await endpointState(xssName);
    assert.equal(legacy.config.format, "cloudevents", "the admin API names the format");
    assert.deepEqual(legacy.config.match, routing.match);
    await page.evaluate((name) => {
      const row = [...document.querySelectorAll("#endpoints-body tr")].find(
        (r) => r.dataset.key === name,
      );
      row.querySelector(".name").click();
    }, xssName);
    await page.waitForFunction(
      (name) => document.getElementById("detail-title").textContent === name,
      xssName,
      { timeout: uiTimeout },
    );
    const settings = await detailFacts("#detail-settings");
    assert.equal(settings.Format, "cloudevents");
    assert.equal(settings.Match, "repositories harness/*");
    assert.equal(settings["Sends as"], "application/cloudevents+json");
    await shot("01a-endpoint-format");
    await page.click("#detail-close");
    await page.waitForSelector("#endpoint-detail", { state: "hidden", timeout: uiTimeout });
  });

  it("shows an endpoint's settings, latency and partitions when its name is selected", async () => {
    const { page } = state;
    assert.ok(await page.isHidden("#endpoint-detail"), "no detail until an endpoint is chosen");
    await page.click('#endpoints-body tr[data-key="mirror-eu"] .name');
    await page.waitForFunction(
      () =>
        !document.getElementById("endpoint-detail").hidden &&
        document.getElementById("detail-title").textContent === "mirror-eu",
      null,
      { timeout: uiTimeout },
    );
    assert.equal(
      await page.getAttribute('#endpoints-body tr[data-key="mirror-eu"] .name', "aria-expanded"),
      "true",
    );
    const settings = await detailFacts("#detail-settings");
    assert.equal(settings.Strategy, "Breaker: after 1 failure, wait 4.0 s");
    assert.equal(settings.Threshold, "1 failure");
    assert.equal(settings.Backoff, "4.0 s");
    assert.equal(settings.Timeout, "2.0 s");
    assert.equal(settings.Partitions, "2");
    assert.equal(settings.Ignores, "actions pull, mount");
    assert.equal(settings["Max attempts"], "unlimited");
    assert.equal(settings["Max age"], "3d 0h");
    // One row per partition, each with its own backlog, summing to the endpoint's.
    const mirror = await endpointState("mirror-eu");
    await waitFor(
      "the partition rows to match the relay's",
      async () => {
        const rows = await partitionRows();
        const depths = rows.map((row) => Number(row[2]));
        return (
          rows.map((row) => row[0]).join() === "#0,#1" &&
          depths.reduce((a, b) => a + b, 0) === mirror.depth
        );
      },
      { timeoutMs: uiTimeout },
    );
    const rows = await partitionRows();
    assert.ok(
      rows.some((row) => row[5].startsWith("503 Service Unavailable")),
      `a partition shows the 503: ${JSON.stringify(rows)}`,
    );
    assert.equal((await detailFacts("#detail-latency")).Delivered, "nothing yet");

    // audit-log delivered every event: its latency comes from the relay's histogram.
    await page.click('#endpoints-body tr[data-key="audit-log"] .name');
    await page.waitForFunction(
      () => document.getElementById("detail-title").textContent === "audit-log",
      null,
      { timeout: uiTimeout },
    );
    const audit = await endpointState("audit-log");
    const latency = await detailFacts("#detail-latency");
    assert.equal(latency.Delivered, `${audit.latency.count} events`);
    for (const key of ["Median", "90th percentile", "99th percentile", "Mean"]) {
      assert.match(latency[key], /^>? ?\d[\d.]* ?(ms|s)$|^\d+m \d{2}s$/, `${key}: ${latency[key]}`);
    }
    // The histogram drawn: a bar per bucket (and one past the last bound), each as tall as its
    // count on the chart's scale, summarised for screen readers, the numbers in a table.
    const perBucket = [...audit.latency.buckets, audit.latency.count].map(
      (n, i, all) => n - (i > 0 ? all[i - 1] : 0),
    );
    const histogram = await chartOf("#detail-histogram");
    assert.equal(histogram.series.length, 1);
    const [bars] = histogram.series;
    assert.equal(bars.role, "img");
    assert.match(
      bars.label,
      new RegExp(`^Latency histogram of ${audit.latency.count} delivered events: the most took `),
    );
    assert.ok(near(bars.heights, barHeights(perBucket)), `bars ${bars.heights} for ${perBucket}`);
    assert.equal(bars.total, String(audit.latency.count));
    assert.equal(histogram.ticks.length, perBucket.length);
    assert.deepEqual(histogram.ticks.slice(0, 2), ["5 ms", "10"]);
    assert.deepEqual(histogram.ticks.slice(-2), ["60s", ">60s"]);
    assert.deepEqual(histogram.head, ["Took", "Delivered"]);
    assert.deepEqual(
      histogram.rows.map((row) => Number(row[1].replace(/,/g, ""))),
      perBucket,
    );
    assert.deepEqual(histogram.rows[0], ["≤ 5 ms", String(perBucket[0])]);
    assert.equal(histogram.rows.at(-1)[0], "> 1m 00s");
    assert.equal(
      (await detailFacts("#detail-settings")).Strategy,
      "Breaker: after 10 failures, wait 20 ms",
    );
    await shot("01b-endpoint-details");
    await page.click("#detail-close");
    await page.waitForSelector("#endpoint-detail", { state: "hidden", timeout: uiTimeout });
  });

  it("lists the dead letters of the failing endpoint in queue order", async () => {
    const { page } = state;
    await page.click('#endpoints-body tr[data-key="ci-trigger"] button:has-text("Dead letters")');
    await page.waitForFunction(
      (n) => document.querySelectorAll("#queue-body tr").length === n,
      state.ciIds.length,
      { timeout: uiTimeout },
    );
    assert.equal(await page.getAttribute("#tab-queue", "aria-selected"), "true");
    const rows = await queueRows();
    assert.deepEqual(
      rows.map((row) => row.id),
      state.ciIds,
    );
    for (const row of rows) {
      assert.equal(row.reason, "Final error");
      assert.equal(row.status, "400 Bad Request");
      assert.notEqual(row.action, "pull");
    }
    assert.match(
      await page.textContent("#queue-summary"),
      new RegExp(`^${state.ciIds.length} dead letters$`),
    );
    await page.check(`#queue-body tr[data-key="${state.ciIds[0]}"] input[type=checkbox]`);
    await page.check(`#queue-body tr[data-key="${state.ciIds[1]}"] input[type=checkbox]`);
    assert.equal((await page.textContent("#replay-selected")).trim(), "Replay selected (2)");
    await shot("02-dead-letters");
  });

  it("replays selected, then all, once the receiver recovers: the queue drains in order", async () => {
    const { page } = state;
    const ci = state.receiver.route("/ci");
    const heightsBefore = await page.evaluate(() => ({
      wrap: document.querySelector("#panel-queue .table-wrap").getBoundingClientRect().height,
      status: document.querySelector(".statusbar").getBoundingClientRect().height,
    }));
    ci.status = 200;
    await page.click("#replay-selected");
    await waitFor("the 2 selected events to arrive", () => ci.events.length === 2, {
      timeoutMs: uiTimeout,
    });
    await page.waitForFunction(
      (n) => document.querySelectorAll("#queue-body tr").length === n,
      state.ciIds.length - 2,
      { timeout: uiTimeout },
    );
    await page.click("#replay-all");
    await waitFor(
      `all ${state.ciIds.length} events to arrive`,
      () => ci.events.length >= state.ciIds.length,
      {
        timeoutMs: uiTimeout,
      },
    );
    assert.deepEqual(
      ci.events.map((event) => event.id),
      state.ciIds,
      "the receiver got every event once, in the original order",
    );
    await page.waitForSelector(
      "#queue-empty:not([hidden]) >> text=No dead letters for ci-trigger",
      { timeout: uiTimeout },
    );
    const after = await endpointState("ci-trigger");
    assert.equal(after.depth, 0);
    assert.equal(after.deadLetters, 0);
    const heightsAfter = await page.evaluate(() => ({
      wrap: document.querySelector("#panel-queue .table-wrap").getBoundingClientRect().height,
      status: document.querySelector(".statusbar").getBoundingClientRect().height,
    }));
    assert.deepEqual(heightsAfter, heightsBefore, "the list keeps its size while it empties");
    await shot("03-dead-letters-replayed");

    await page.click("#tab-endpoints");
    await waitFor(
      "ci-trigger to show an empty queue",
      async () => {
        const row = await endpointRow("ci-trigger");
        return row?.pending === "0" && row.dead === "0" && row.last.startsWith("200 OK");
      },
      { timeoutMs: uiTimeout },
    );
    const heights = await page.$$eval("#endpoints-body tr", (rows) =>
      rows.map((r) => r.getBoundingClientRect().height),
    );
    assert.equal(new Set(heights).size, 1, `every endpoint row has the same height: ${heights}`);
    await shot("04-endpoints-drained");
  });

  it("draws each endpoint's last hour per minute: deliveries, failed attempts, dead letters", async () => {
    const { page } = state;
    await page.click('#endpoints-body tr[data-key="ci-trigger"] .name');
    await page.waitForFunction(
      () => document.getElementById("detail-title").textContent === "ci-trigger",
      null,
      { timeout: uiTimeout },
    );
    // ci-trigger: every event failed once (400, final) into the dead letters, then was replayed
    // and delivered. The chart must draw what the relay counted, minute by minute.
    const ci = await waitFor(
      "the last hour of ci-trigger to be drawn as the relay counted it",
      async () => {
        const { activity } = await endpointState("ci-trigger");
        return (await activityShown(activity)) && activity;
      },
      { timeoutMs: uiTimeout },
    );
    const n = state.ciIds.length;
    assert.equal(sum(ci.delivered), n);
    assert.equal(sum(ci.deadLettered), n);
    assert.ok(sum(ci.failed) >= n, `failed attempts ${sum(ci.failed)}`);
    const chart = await chartOf("#detail-activity");
    assert.deepEqual(
      chart.series.map((one) => [one.name, one.role, one.total]),
      [
        ["Delivered", "img", String(n)],
        ["Failed attempts", "img", String(sum(ci.failed))],
        ["Dead-lettered", "img", String(n)],
      ],
    );
    assert.match(
      chart.series[0].label,
      new RegExp(
        `^Delivered per minute in the last hour: ${n} events, at most \\d+ in a minute \\((this minute|\\d+ min ago)\\)$`,
      ),
    );
    assert.match(chart.series[2].label, /^Dead-lettered per minute in the last hour: /);
    // 60 minutes placed on the relay's clock: "1 h ago" at the left, "now" at the right.
    assert.equal(chart.ticks.length, 60);
    assert.equal(chart.ticks[0], "1 h ago");
    assert.equal(chart.ticks[59], "now");
    assert.equal(chart.ticks[44], "15 min ago");
    assert.deepEqual(chart.head, ["Minute", "Delivered", "Failed attempts", "Dead-lettered"]);
    const totals = [1, 2, 3].map((col) => sum(chart.rows.map((row) => Number(row[col]))));
    assert.deepEqual(totals, [n, sum(ci.failed), n], "the table holds the same numbers");
    assert.ok(chart.rows.every((row) => /^(this minute|\d+ min ago)$/.test(row[0])));
    await page.click("#detail-activity summary");
    assert.ok(await page.isVisible("#detail-activity tbody tr"), "the numbers open");
    await shot("04b-endpoint-last-hour");

    // The buckets follow the relay's clock, not the browser's: skewed by two hours, the same bars.
    await page.evaluate(() => {
      const real = Date.now;
      window.__realNow = real;
      Date.now = () => real.call(Date) + 2 * 3_600_000;
    });
    const before = state.requests.length;
    await waitFor("a refresh with the skewed clock", () => state.requests.length > before + 1, {
      timeoutMs: uiTimeout,
    });
    await waitFor(
      "the same last hour under a skewed browser clock",
      async () => activityShown((await endpointState("ci-trigger")).activity),
      { timeoutMs: uiTimeout },
    );
    await page.evaluate(() => {
      Date.now = window.__realNow;
    });

    // mirror-eu keeps failing on 2 partitions: failed attempts, summed over both, no deliveries.
    await page.click('#endpoints-body tr[data-key="mirror-eu"] .name');
    const mirror = await waitFor(
      "the last hour of mirror-eu to be drawn as the relay counted it",
      async () => {
        const { activity } = await endpointState("mirror-eu");
        return (await activityShown(activity)) && activity;
      },
      { timeoutMs: uiTimeout },
    );
    assert.ok(sum(mirror.failed) > 0);
    assert.equal(sum(mirror.delivered), 0);
    assert.equal(
      (await chartOf("#detail-activity")).series[0].label,
      "Delivered: no events in the last hour",
    );
    await page.click("#detail-close");
  });

  it("pauses an endpoint with a reason and resumes it", async () => {
    const { page } = state;
    const audit = state.receiver.route("/audit");
    await page.click('#endpoints-body tr[data-key="audit-log"] button:has-text("Pause")');
    await page.waitForSelector("#confirm-dialog[open]", { timeout: uiTimeout });
    await page.fill("#confirm-input", "receiver maintenance until 14:00");
    await page.click("#confirm-ok");
    await waitFor(
      "audit-log to show Paused",
      async () => (await endpointRow("audit-log"))?.state.startsWith("Paused"),
      {
        timeoutMs: uiTimeout,
      },
    );
    const paused = await endpointState("audit-log");
    assert.equal(paused.state, "paused");
    assert.equal(paused.pauseReason, "receiver maintenance until 14:00");
    assert.match((await endpointRow("audit-log")).state, /receiver maintenance until 14:00/);

    const before = audit.events.length;
    const extra = fixtureNamed(26);
    await ingest(extra);
    await waitFor(
      "audit-log to hold the new event",
      async () => (await endpointRow("audit-log"))?.pending === "1",
      {
        timeoutMs: uiTimeout,
      },
    );
    assert.equal(audit.events.length, before, "nothing is delivered while paused");
    await shot("05-endpoint-paused");

    await page.click('#endpoints-body tr[data-key="audit-log"] button:has-text("Resume")');
    await waitFor("the held event to arrive", () => audit.events.length === before + 1, {
      timeoutMs: uiTimeout,
    });
    assert.equal(audit.events.at(-1).id, extra.events[0].id);
    await waitFor(
      "audit-log to show Active with nothing pending",
      async () => {
        const row = await endpointRow("audit-log");
        return row?.state.startsWith("Active") && row.pending === "0";
      },
      { timeoutMs: uiTimeout },
    );
  });

  it("purges dead letters only after confirmation", async () => {
    const { page } = state;
    const dead = (await endpointState(xssName)).deadLetters;
    assert.ok(dead > 0, "the 404 endpoint has dead letters");
    await page.click("#tab-queue");
    await page.selectOption("#queue-endpoint", xssName);
    await page.waitForFunction(
      (n) => document.querySelectorAll("#queue-body tr").length === n,
      dead,
      {
        timeout: uiTimeout,
      },
    );
    await page.click("#purge");
    await page.waitForSelector("#confirm-dialog[open]", { timeout: uiTimeout });
    assert.match(
      await page.textContent("#confirm-message"),
      new RegExp(`deletes ${dead} dead letters`),
    );
    await shot("06-purge-confirm");
    await page.click("#confirm-cancel");
    await page.waitForSelector("#confirm-dialog:not([open])", {
      state: "attached",
      timeout: uiTimeout,
    });
    assert.equal((await endpointState(xssName)).deadLetters, dead, "cancel keeps them");

    await page.click("#purge");
    await page.waitForSelector("#confirm-dialog[open]", { timeout: uiTimeout });
    await page.click("#confirm-ok");
    await page.waitForSelector("#queue-empty:not([hidden]) >> text=No dead letters", {
      timeout: uiTimeout,
    });
    assert.equal((await endpointState(xssName)).deadLetters, 0);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
  });

  it("lists the pending events of a retrying endpoint", async () => {
    const { page } = state;
    const mirror = await endpointState("mirror-eu");
    assert.ok(mirror.depth > 0, "mirror-eu keeps failing with 503, so its events wait");
    await page.selectOption("#queue-endpoint", "mirror-eu");
    await page.click("label.seg:has(#queue-pending)");
    await page.waitForFunction(
      (n) => document.querySelectorAll("#queue-body tr").length === n,
      mirror.depth,
      {
        timeout: uiTimeout,
      },
    );
    const rows = await queueRows();
    for (const row of rows) {
      assert.match(row.reason, /^(Retry (in |now)|Queued)/);
      assert.ok(
        !["pull", "mount"].includes(row.action),
        `mirror-eu ignores pulls and mounts: ${row.action}`,
      );
    }
    assert.ok(rows.some((row) => row.status === "503 Service Unavailable"));
    assert.ok(await page.isDisabled("#replay-all"), "replay and purge are for dead letters only");
    assert.ok(await page.isDisabled("#purge"));
    assert.equal(await page.textContent("#queue-age-header"), "Waiting");
    await shot("07-pending-retrying");
    await page.click("label.seg:has(#queue-dead)");
  });

  it("disconnecting forgets the token and stops polling", async () => {
    const { page } = state;
    await page.click("#disconnect-button");
    assert.deepEqual(await page.evaluate(() => Object.values(sessionStorage)), []);
    assert.equal(await page.inputValue("#admin-token"), "");
    state.requests.length = 0;
    await page.waitForTimeout(2500);
    assert.deepEqual(state.requests, [], "no request after disconnecting");
  });

  it("opens connected from npm start's link and drops the fragment from the address bar", async () => {
    // A fresh tab (no stored relay URL or token): only the link's fragment can connect it.
    const context = await state.browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const page = await context.newPage();
      const requests = [];
      const logs = [];
      page.on("request", (request) => requests.push(request.url()));
      page.on("console", (message) => logs.push(message.text()));
      const token = encodeURIComponent(state.adminToken);
      await page.goto(`${state.console.url}/#relay=${state.relay.base}&token=${token}`);
      await page.waitForFunction(
        () =>
          document.querySelectorAll("#endpoints-body tr").length === 4 &&
          document.getElementById("conn-dot").className === "dot ok",
        null,
        { timeout: uiTimeout },
      );
      assert.equal(await page.evaluate(() => location.hash), "", "the fragment is gone");
      assert.equal(page.url(), `${state.console.url}/`);
      assert.equal(await page.inputValue("#relay-url"), state.relay.base);
      // Replaced, not pushed: the tab's history is about:blank, then the console without fragment.
      assert.equal(await page.evaluate(() => history.length), 2);
      assert.ok(
        requests.every((url) => !url.includes(state.adminToken)),
        "no request URL holds the token",
      );
      assert.ok(
        logs.every((text) => !text.includes(state.adminToken)),
        "the token is never logged",
      );
    } finally {
      await context.close();
    }
  });

  it("validates envelopes in the page (pasted, dropped, broken) with no network call", async () => {
    const { page } = state;
    state.requests.length = 0;
    await page.click("#tab-validator");
    const manifest = fixtureNamed(3);
    await page.fill("#validator-input", manifest.body.toString("utf8"));
    await page.waitForSelector("#validator-verdict.ok", { timeout: uiTimeout });
    assert.match(await page.textContent("#validator-verdict-text"), /^Valid envelope: 1 event, /);
    const cells = await page.$$eval("#validator-events-body tr td", (tds) =>
      tds.map((td) => td.textContent.trim()),
    );
    assert.equal(cells[1], "push");
    assert.equal(cells[2], "harness/alpha");
    assert.equal(cells[3], "v1");

    // A dropped file is parsed from its exact bytes.
    const blob = fixtureNamed(19);
    await page.evaluate(
      ({ name, text }) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([text], name, { type: "application/json" }));
        const zone = document.getElementById("validator-drop");
        zone.dispatchEvent(
          new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }),
        );
      },
      { name: `${blob.name}.json`, text: blob.body.toString("utf8") },
    );
    await page.waitForFunction(
      (name) => document.getElementById("validator-source").textContent.includes(name),
      blob.name,
      { timeout: uiTimeout },
    );
    assert.equal(await page.$$eval("#validator-events-body tr", (rows) => rows.length), 1);
    assert.match(await page.textContent("#validator-events-body"), /harness\/beta/);

    await page.click("#validator-sample");
    await page.waitForFunction(
      () => document.querySelectorAll("#validator-events-body tr").length === 4,
      null,
      {
        timeout: uiTimeout,
      },
    );
    await shot("08-validator-valid");

    const broken = JSON.parse(manifest.body.toString("utf8"));
    delete broken.events[0].id;
    broken.events[0].target.size = "150";
    broken.events[0].timestamp = "yesterday";
    broken.events.push({ action: "push" });
    await page.fill("#validator-input", JSON.stringify(broken, null, 3));
    await page.waitForSelector("#validator-verdict.bad", { timeout: uiTimeout });
    const paths = await page.$$eval("#validator-issues-body tr", (rows) =>
      rows.map((r) => r.cells[0].textContent.trim()),
    );
    for (const path of [
      "events[0].id",
      "events[0].target.size",
      "events[0].timestamp",
      "events[1].id",
      "events[1].target",
    ]) {
      assert.ok(paths.includes(path), `the issues name ${path}: ${paths.join(", ")}`);
    }
    await shot("09-validator-issues");

    await page.fill("#validator-input", '{"events": [ {"id": "a",, } ] }');
    await page.waitForFunction(
      () => document.querySelectorAll("#validator-issues-body tr").length === 1,
      null,
      { timeout: uiTimeout },
    );
    const jsonIssue = await page.$$eval("#validator-issues-body tr", (rows) =>
      rows.map((r) => r.textContent),
    );
    assert.equal(jsonIssue.length, 1);
    assert.match(jsonIssue[0], /JSON/i);
    assert.deepEqual(state.requests, [], "validation made no request");
  });

  it("checks Standard Webhooks signatures in the page with the reason, no network call", async () => {
    const { page } = state;
    state.requests.length = 0;
    await page.click("#tab-signature");
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    const body = fixtureNamed(21).body.toString("utf8");
    const id = `msg_${randomBytes(8).toString("hex")}`;
    const signed = (at) => {
      const signature = new Webhook(secret).sign(id, at, body);
      return `webhook-id: ${id}\nwebhook-timestamp: ${Math.floor(at.getTime() / 1000)}\nwebhook-signature: ${signature}`;
    };
    const verify = async (expected) => {
      const checks = Number((await page.getAttribute("#sig-verdict", "data-checks")) ?? 0);
      await page.click("#sig-verify");
      await page.waitForFunction(
        ({ text, checks }) =>
          Number(document.getElementById("sig-verdict").dataset.checks ?? 0) > checks &&
          document.getElementById("sig-verdict-text").textContent.includes(text),
        { text: expected, checks },
        { timeout: uiTimeout },
      );
      return page.textContent("#sig-verdict-text");
    };

    await page.fill("#sig-secret", secret);
    await page.fill(
      "#sig-headers",
      `POST /events HTTP/1.1\ncontent-type: application/json\n${signed(new Date())}`,
    );
    await page.fill("#sig-body", body);
    assert.match(await verify("Signature valid"), new RegExp(id));
    assert.equal(await page.getAttribute("#sig-verdict", "class"), "verdict ok");
    await shot("10-signature-valid");

    await page.fill("#sig-body", `${body} `);
    assert.match(await verify("no-matching-signature"), /no v1 signature/);
    await page.fill("#sig-body", body);
    await page.fill("#sig-secret", `whsec_${randomBytes(24).toString("base64")}`);
    await verify("no-matching-signature");
    await page.fill("#sig-secret", secret);
    await page.fill("#sig-headers", signed(new Date(Date.now() - 3600_000)));
    await verify("timestamp-too-old");
    await shot("11-signature-too-old");
    await page.check("#sig-ignore-time");
    await verify("Signature valid");
    await page.fill("#sig-headers", `webhook-id: ${id}`);
    await verify("missing-header");
    assert.equal(await page.getAttribute("#sig-verdict", "class"), "verdict bad");
    const checks = Number(await page.getAttribute("#sig-verdict", "data-checks"));
    await page.click("#sig-example");
    await page.waitForFunction(
      (n) => Number(document.getElementById("sig-verdict").dataset.checks) > n,
      checks,
      { timeout: uiTimeout },
    );
    assert.match(await page.textContent("#sig-verdict-text"), /^Signature valid · webhook-id msg_/);
    assert.deepEqual(state.requests, [], "checking signatures made no request");
    assert.deepEqual(
      state.pageErrors.map((error) => error.message),
      [],
      "no page errors during the whole run",
    );
  });
});
