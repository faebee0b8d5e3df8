// The admin console's validator on every input format, in real headless Chromium (no relay is
// needed: it all happens in the page). What the page shows is compared with the same core run here
// in Node: the events Harbor's documented push normalizes to, an unsupported Harbor event with its
// CloudEvents type, a broken Docker Hub body's FormatError paths, zot's Ce-* headers typed in, and
// the CloudEvent and CDEvent the relay sends for the chosen event. Screenshots go to
// test/artifacts/browser-admin/.
// Run: npm run test:browser-admin (or node --test test/browser/validator.test.mjs)
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildConsole } from "../../examples/browser-admin/build.mjs";
import { serveConsole } from "../../examples/browser-admin/serve.mjs";
import {
  launchChromium,
  loadCore,
  registriesFixturesDir,
  repoRoot,
  stopGroup,
} from "./harness.mjs";

const artifacts = join(repoRoot, "test/artifacts/browser-admin");
const uiTimeout = 20_000;
const state = {};

const registrySample = (path) => readFileSync(join(registriesFixturesDir, path), "utf8");

async function shot(name) {
  await state.page.screenshot({ path: join(artifacts, `${name}.png`) });
}

/** Waits for the verdict to start with `prefix`; returns its whole text. */
async function verdict(prefix) {
  await state.page.waitForFunction(
    (text) => document.getElementById("validator-verdict-text").textContent.startsWith(text),
    prefix,
    { timeout: uiTimeout },
  );
  return state.page.textContent("#validator-verdict-text");
}

/** The events table: per row, per cell, the text of each child (badge and sub-line apart). */
function rows() {
  return state.page.$$eval("#validator-events-body tr", (trs) =>
    trs.map((tr) => [...tr.cells].map((td) => [...td.childNodes].map((n) => n.textContent))),
  );
}

/** The CloudEvent (parsed) and the CDEvent text the page shows for the chosen event. */
async function shown() {
  return {
    cloudEvent: JSON.parse(await state.page.textContent("#validator-cloudevent")),
    cdEvent: await state.page.textContent("#validator-cdevent"),
  };
}

/** What the page must show for an event: the core's encoders, run here in Node. */
function expectedFor(event) {
  const message = state.core.toCDEvent(event);
  const head = Object.entries(message.headers).map(([name, value]) => `${name}: ${value}`);
  return {
    cloudEvent: JSON.parse(JSON.stringify(state.core.toCloudEvent(event))),
    cdEvent: `${head.join("\n")}\n\n${JSON.stringify(JSON.parse(message.body), null, 2)}`,
  };
}

describe("browser admin console: the validator's input formats", { timeout: 120_000 }, () => {
  before(async () => {
    await mkdir(artifacts, { recursive: true });
    state.tmp = await mkdtemp(join(tmpdir(), "relay-validator-"));
    state.core = await loadCore(state.tmp);
    const built = await buildConsole({ outdir: join(state.tmp, "console") });
    state.console = await serveConsole({ port: 0, dir: built.outdir });

    Object.assign(state, await launchChromium(1100));
    state.pageErrors = [];
    state.requests = [];
    state.page.on("pageerror", (error) => state.pageErrors.push(error));
    state.page.on("console", (message) => {
      if (message.type() === "error") state.pageErrors.push(new Error(message.text()));
    });
    await state.page.goto(`${state.console.url}/`);
    state.page.on("request", (request) => state.requests.push(request.url()));
    await state.page.click("#tab-validator");
  });

  after(async () => {
    await state.browser?.close().catch(() => {});
    await state.browserServer?.close().catch(() => {});
    if (state.browserPid) await stopGroup(state.browserPid);
    await state.console?.close();
    if (state.tmp) await rm(state.tmp, { recursive: true, force: true });
  });

  it("normalizes Harbor's documented push into the event the core makes, and encodes it", async () => {
    const { page } = state;
    const harbor = registrySample("harbor/website-default-push-artifact.json");
    const { events } = await state.core.normalizeNotification("harbor", { body: harbor });
    const [event] = events;
    assert.equal(events.length, 1);
    assert.equal(event.action, "push");
    assert.equal(event.target.repository, "harbor/alpine");

    assert.ok(await page.isHidden("#validator-headers"), "distribution takes no headers");
    await page.selectOption("#validator-format", "harbor");
    assert.ok(await page.isVisible("#validator-headers"), "the other formats take headers");
    await page.fill("#validator-input", harbor);
    assert.match(await verdict("Valid Harbor notification: "), /: 1 event, \d+ B\.$/);
    const [row] = await rows();
    assert.deepEqual(row.slice(0, 4), [["1"], ["push", "PUSH_ARTIFACT"], ["harbor/alpine"], ["—"]]);
    assert.equal(row[4][0], "digest");
    assert.match(row[4][1], /^sha256:954b/);
    // The first event is chosen: its CloudEvent (the event itself as data) and its CDEvent.
    assert.equal(
      await page.getAttribute("#validator-events-body tr button", "aria-pressed"),
      "true",
    );
    const encoded = await shown();
    assert.deepEqual(encoded, expectedFor(event));
    assert.deepEqual(encoded.cloudEvent.data, JSON.parse(JSON.stringify(event)));
    assert.equal(encoded.cloudEvent.type, "dev.registryrelay.artifact.pushed");
    assert.equal(encoded.cloudEvent.origintype, "PUSH_ARTIFACT");
    assert.match(encoded.cdEvent, /^ce-specversion: 1\.0\nce-id: /);
    await shot("12-validator-harbor");
  });

  it("lists what distribution has no action for as unsupported, with its CloudEvents type", async () => {
    const { page } = state;
    const harbor = JSON.parse(registrySample("harbor/website-default-push-artifact.json"));
    const scan = JSON.stringify({ ...harbor, type: "SCANNING_COMPLETED" });
    const out = await state.core.normalizeNotification("harbor", { body: scan });
    assert.equal(out.unsupported.length, 1);
    await page.fill("#validator-input", scan);
    await verdict("Valid Harbor notification: 0 events, 1 unsupported, ");
    const [row] = await rows();
    assert.deepEqual(row[1], ["unsupported", "harbor.scan.completed"]);
    const encoded = await shown();
    assert.deepEqual(
      encoded.cloudEvent,
      JSON.parse(JSON.stringify(state.core.toCloudEvent(out.unsupported[0]))),
    );
    assert.equal(encoded.cloudEvent.type, "harbor.scan.completed");
    assert.equal(
      encoded.cdEvent,
      "Not sent as a CDEvent: CDEvents has no type for another registry's event harbor.scan.completed.",
    );
  });

  it("shows a FormatError's issues with their paths for a broken Docker Hub body", async () => {
    const { page } = state;
    const hub = JSON.parse(registrySample("dockerhub/docs-push-webhook.json"));
    delete hub.push_data.tag;
    const body = JSON.stringify(hub, null, 2);
    const error = await state.core.normalizeNotification("dockerhub", { body }).catch((e) => e);
    assert.ok(error instanceof state.core.FormatError);
    // The body first: the format's change validates at once, so no verdict of an older body shows.
    await page.fill("#validator-input", body);
    await page.selectOption("#validator-format", "dockerhub");
    const n = error.issues.length;
    await verdict(`Not a valid Docker Hub notification: ${n} issue${n === 1 ? "" : "s"}.`);
    const issues = await page.$$eval("#validator-issues-body tr", (trs) =>
      trs.map((tr) => ({ path: tr.cells[0].textContent, message: tr.cells[1].textContent })),
    );
    assert.deepEqual(issues, error.issues);
    assert.ok(
      issues.some((issue) => issue.path === "push_data.tag"),
      JSON.stringify(issues),
    );
    assert.ok(await page.isHidden("#validator-encoded"), "nothing is sent for a broken body");
    await shot("13-validator-format-error");
  });

  it("takes zot's Ce-* headers: refused without them, the core's event with them", async () => {
    const { page } = state;
    const headers = {
      "Ce-Specversion": "1.0",
      "Ce-Id": "5e9f0f5c-4c1f-4b6e-9d9b-7f2a1c0d3e42",
      "Ce-Type": "zotregistry.image.updated",
      "Ce-Source": "zotregistry.dev",
      "Ce-Time": "2026-01-02T03:04:05Z",
      "Content-Type": "application/json",
    };
    const body = JSON.stringify({
      name: "team/app",
      reference: "v1.4.0",
      digest: `sha256:${"c3".repeat(32)}`,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
    });
    const { events } = await state.core.normalizeNotification("zot", { body, headers });
    await page.selectOption("#validator-format", "zot");
    assert.match(await page.getAttribute("#validator-headers", "placeholder"), /^Ce-Specversion/);
    await page.fill("#validator-input", body);
    await verdict("Not a valid zot notification: ");
    assert.match(await page.textContent("#validator-issues-body"), /headers\["ce-/);
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
    await page.fill("#validator-headers", lines.join("\n"));
    await verdict("Valid zot notification: 1 event, ");
    assert.deepEqual((await rows())[0].slice(1, 4), [
      ["push", "zotregistry.image.updated"],
      ["team/app"],
      ["v1.4.0"],
    ]);
    assert.deepEqual(await shown(), expectedFor(events[0]));
    await page.fill("#validator-headers", "Ce-Id 42");
    await verdict("Not a valid zot notification: 1 issue.");
    assert.deepEqual(
      await page.$$eval("#validator-issues-body td", (tds) => tds.map((td) => td.textContent)),
      ["(headers)", 'Headers, line 1: expected "name: value"'],
    );
  });

  it("shows what the relay sends for any chosen event, and why no CDEvent is sent", async () => {
    const { page } = state;
    await page.click("#validator-sample");
    await page.waitForFunction(
      () => document.querySelectorAll("#validator-events-body tr").length === 4,
      null,
      { timeout: uiTimeout },
    );
    assert.equal(await page.inputValue("#validator-format"), "distribution");
    assert.ok(await page.isHidden("#validator-headers"));
    assert.match(await verdict("Valid envelope: 4 events, "), /B\.$/);
    const pick = async (key) => {
      await page.click(`#validator-events-body tr[data-key="${key}"] button`);
      assert.equal(
        await page.getAttribute(`#validator-events-body tr[data-key="${key}"]`, "class"),
        "selected",
      );
      return shown();
    };
    // A blob push is sent as a CloudEvent, not as a CDEvent.
    const blob = await pick("0");
    assert.equal(blob.cloudEvent.type, "dev.registryrelay.artifact.pushed");
    assert.match(blob.cdEvent, /^Not sent as a CDEvent: it is a blob's: application\/octet-stream/);
    // The tag delete names no digest, so no package URL.
    const deleted = await pick("3");
    assert.equal(deleted.cloudEvent.type, "dev.registryrelay.artifact.deleted");
    assert.equal(deleted.cloudEvent.subject, "team/app:v1.3.9");
    assert.match(deleted.cdEvent, /^Not sent as a CDEvent: it names no digest/);
    // The manifest push is an artifact published, exactly as the core encodes it.
    const manifest = await pick("2");
    assert.deepEqual(manifest, expectedFor(manifest.cloudEvent.data));
    assert.match(manifest.cdEvent, /\nce-type: dev\.cdevents\.artifact\.published\.0\.3\.0\n/);
    assert.equal(await page.locator("#validator-events-body tr.selected").count(), 1);
    await shot("14-validator-sample-encoded");
    assert.deepEqual(state.requests, [], "normalizing and encoding made no request");
    assert.deepEqual(
      state.pageErrors.map((error) => error.message),
      [],
      "no page errors",
    );
  });
});
