// The package as a consumer gets it: `npm pack` (which builds, through `prepare`), publint
// --strict and attw (esm-only profile) on the tarball, then a fresh consumer project in the OS temp
// dir that installs the tarball with the oldest supported hono (package.json peerDependencies),
// typechecks a file importing every entry point (node16 and bundler resolution, strict,
// exactOptionalPropertyTypes, no skipLibCheck) and every ```ts block of README.md and docs/*.md,
// and runs every entry with node on a captured fixture. The entry points are package.json
// "exports", read here: a new subpath is covered without a change to this file.
// publint and attw read only the tarball: the registry is never asked (npm_config_offline).
// Run: node --test --test-reporter=spec test/package/
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pushFixture } from "../fixtures/paths.mjs";
import { repoRoot } from "../support/relay-process.mjs";
import { blockErrors, docBlocks } from "./doc-blocks.mjs";
import { exec, sh } from "./sh.mjs";

const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
/** The oldest hono the peer range admits, e.g. ">=4.0.0" gives "4.0.0". */
const honoFloor = /^>=\s*(\d+\.\d+\.\d+)$/.exec(pkg.peerDependencies?.hono ?? "")?.[1];
const bin = (name) => join(repoRoot, "node_modules/.bin", name);
const fixture = pushFixture;
const suiteTimeoutMs = 180_000;
/**
 * package.json "exports" as import specifiers: `{ subpath: ".", specifier: "registry-relay",
 * json: false }`, one per entry; `json` for entries that are not JavaScript (./package.json).
 */
const entries = Object.entries(pkg.exports).map(([subpath, target]) => ({
  subpath,
  specifier: pkg.name + subpath.slice(1),
  json: (typeof target === "string" ? target : (target.default ?? "")).endsWith(".json"),
}));
const has = (subpath) => entries.some((entry) => entry.subpath === subpath);

/** registry-relay/webhooks, when package.json exports it: the same functions as the main entry. */
const webhooksTs = `
import * as main from "registry-relay";
import { signWebhook, verifyWebhook, type WebhookHeaders } from "registry-relay/webhooks";

export const sameSign: typeof main.signWebhook = signWebhook;
export async function signedId(body: string): Promise<string> {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const headers: WebhookHeaders = await signWebhook({ secret, id: "msg_1", timestamp: new Date(), body });
  return (await verifyWebhook({ secret, headers, body })).id;
}
`;

/** registry-relay/schema, when package.json exports it: its schemas infer the main entry's types. */
const schemaTs = `
import * as v from "valibot";
import { EnvelopeSchema, EventSchema } from "registry-relay/schema";

export const viaSchema = (value: unknown): Envelope => v.parse(EnvelopeSchema, value);
export const firstEvent = (envelope: Envelope): v.InferOutput<typeof EventSchema> | undefined =>
  envelope.events[0];
`;

/** Every entry point of package.json "exports" that is JavaScript, imported whole. */
const entriesTs = `// Every entry point of package.json "exports", as a consumer resolves it.
${entries
  .filter((entry) => !entry.json)
  .map((entry, i) => `export * as entry${i} from ${JSON.stringify(entry.specifier)};`)
  .join("\n")}
`;

const consumerTs = `// The entry points, typed as a consumer uses them.
import { Hono } from "hono";
import {
  type Envelope,
  type IgnoreRules,
  IgnoredSink,
  ignoredBy,
  parseEnvelope,
  type Sink,
} from "registry-relay";
import { EnvelopeError, safeParseEnvelope } from "registry-relay/envelope";
import { type ReceiveEnvelopesOptions, receiveEnvelopes } from "registry-relay/hono";

const rules: IgnoreRules = { actions: ["pull"] };
const drop = ignoredBy(rules);
const seen: Envelope["events"] = [];
const sink: Sink<Envelope["events"][number]> = {
  write: async (...events) => {
    seen.push(...events);
  },
  close: async () => {},
};
export const filtered = new IgnoredSink(sink, rules);

export function count(body: string): number {
  const result = safeParseEnvelope(body);
  if (!result.success) throw new EnvelopeError(result.issues);
  const envelope: Envelope = parseEnvelope(body);
  return envelope.events.filter((event) => !drop(event)).length;
}

const options: ReceiveEnvelopesOptions = {
  tokens: ["s3cret"],
  onEnvelope: (envelope, info) => {
    seen.push(...envelope.events);
    if (info.raw.byteLength === 0) return new Response(null, { status: 400 });
  },
};
export const app = new Hono();
app.post("/events", receiveEnvelopes(options));
${has("./webhooks") ? webhooksTs : ""}${has("./schema") ? schemaTs : ""}`;

const runMjs = `import { readFileSync } from "node:fs";
import { Hono } from "hono";

// Every entry of package.json "exports", as node resolves it.
const entries = ${JSON.stringify(entries)};
const loaded = {};
for (const { subpath, specifier, json } of entries) {
  loaded[subpath] = await import(specifier, json ? { with: { type: "json" } } : undefined);
}
// One module instance per name: what two entries both export is the same value (instanceof works).
const shared = [];
for (const [subpath, module] of Object.entries(loaded)) {
  if (subpath === ".") continue;
  for (const [name, value] of Object.entries(module)) {
    if (!(name in loaded["."])) continue;
    if (loaded["."][name] !== value) throw new Error(\`\${subpath} exports another \${name}\`);
    shared.push(name);
  }
}

const { parseEnvelope } = loaded["."];
const { receiveEnvelopes } = loaded["./hono"];
const body = readFileSync(${JSON.stringify(fixture)}, "utf8");
const envelope = parseEnvelope(body);
if (loaded["./envelope"].parseEnvelope(body).events.length !== envelope.events.length) {
  throw new Error("entries differ");
}
let received = 0;
const app = new Hono();
app.post("/events", receiveEnvelopes({ tokens: ["t"], onEnvelope: (e) => { received += e.events.length; } }));
const response = await app.request("/events", {
  method: "POST",
  headers: { authorization: "Bearer t", "content-type": "application/vnd.docker.distribution.events.v1+json" },
  body,
});

let verified;
if (loaded["./webhooks"]) {
  const { signWebhook, verifyWebhook } = loaded["./webhooks"];
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const headers = await signWebhook({ secret, id: "msg_1", timestamp: new Date(), body });
  verified = (await verifyWebhook({ secret, headers, body })).id;
}
let schemaEvents;
if (loaded["./schema"]) {
  const v = await import("valibot");
  schemaEvents = v.parse(loaded["./schema"].EnvelopeSchema, JSON.parse(body)).events.length;
}
console.log(JSON.stringify({
  entries: Object.keys(loaded),
  shared: shared.length,
  events: envelope.events.length,
  action: envelope.events[0]?.action,
  status: response.status,
  received,
  verified,
  schemaEvents,
}));
`;

const tsconfig = (moduleResolution, files) => ({
  compilerOptions: {
    target: "ES2022",
    module: moduleResolution === "node16" ? "node16" : "esnext",
    moduleResolution,
    lib: ["ES2022", "DOM", "DOM.Iterable"],
    types: [],
    strict: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: false,
    // Each docs block is a module of its own, even one without import or export.
    moduleDetection: "force",
    noEmit: true,
  },
  files,
});

/** The ```ts blocks of README.md and docs/*.md, each written to the consumer as blocks/<doc>-<n>.ts. */
const blocks = docBlocks(repoRoot);

describe("package", { timeout: suiteTimeoutMs }, () => {
  let dir;
  let tarball;
  let consumer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "registry-relay-package-"));
    // `npm pack` runs `prepare`, so this also proves that a clean clone builds before packing.
    await sh("npm", ["pack", "--silent", "--pack-destination", dir]);
    const tgz = readdirSync(dir).filter((name) => name.endsWith(".tgz"));
    assert.equal(tgz.length, 1, `one tarball in ${dir}: ${tgz}`);
    tarball = join(dir, tgz[0]);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("ships dist/lib with every export and no build leftovers", async () => {
    const { stdout } = await sh("tar", ["-tzf", tarball]);
    const files = new Set(stdout.split("\n").filter(Boolean));
    for (const [entry, target] of Object.entries(pkg.exports)) {
      for (const file of typeof target === "string" ? [target] : Object.values(target)) {
        assert.ok(files.has(join("package", file)), `${entry}: ${file} is not in the tarball`);
      }
    }
    assert.ok(![...files].some((f) => f.endsWith(".log") || f.includes("/test/")), "no leftovers");
  });

  it("emits .d.ts files that import .js paths", async () => {
    const { stdout } = await sh("tar", ["-xzOf", tarball, "--wildcards", "package/dist/*.d.ts"]);
    const tsImports = stdout.match(/from\s+["']\.{1,2}\/[^"']*\.ts["']/g) ?? [];
    assert.deepEqual(tsImports, []);
  });

  it("passes publint --strict", async () => {
    const { stdout } = await sh(bin("publint"), ["run", tarball, "--strict"], {
      env: { npm_config_offline: "true" },
    });
    assert.match(stdout, /All good!/);
  });

  it("passes attw with the esm-only profile", async () => {
    await sh(bin("attw"), [tarball, "--profile", "esm-only", "--no-definitely-typed"], {
      env: { npm_config_offline: "true" },
    });
  });

  describe(`a consumer with hono ${honoFloor ?? "?"}`, () => {
    /**
     * tsc's output (errors are in it, not thrown) for the consumer's program under one module
     * resolution: consumer.ts, entries.ts and every docs block, each a module. Run once per
     * resolution, shared by the tests that read it.
     */
    const checked = {};
    const typecheck = (resolution) => {
      checked[resolution] ??= exec(
        bin("tsc"),
        ["-p", `tsconfig.${resolution}.json`, "--pretty", "false"],
        {
          cwd: consumer,
          timeout: 120_000,
        },
      )
        .catch((error) => error)
        .then((result) => {
          if (result.signal) assert.fail(`tsc -p tsconfig.${resolution}.json: ${result.signal}`);
          return `${result.stdout ?? ""}${result.stderr ?? ""}`;
        });
      return checked[resolution];
    };

    before(async () => {
      assert.ok(honoFloor, `peerDependencies.hono is ">=x.y.z": ${pkg.peerDependencies?.hono}`);
      consumer = join(dir, "consumer");
      await mkdir(consumer);
      const manifest = { name: "consumer", private: true, type: "module" };
      await writeFile(join(consumer, "package.json"), JSON.stringify(manifest, null, 2));
      // From the npm cache where it can (valibot and the floor hono after the first run).
      await sh(
        "npm",
        [
          "install",
          "--prefer-offline",
          "--no-audit",
          "--no-fund",
          "--ignore-scripts",
          "--no-package-lock",
          tarball,
          `hono@${honoFloor}`,
        ],
        { cwd: consumer },
      );
      await writeFile(join(consumer, "consumer.ts"), consumerTs);
      await writeFile(join(consumer, "entries.ts"), entriesTs);
      await writeFile(join(consumer, "run.mjs"), runMjs);
      await mkdir(join(consumer, "blocks"));
      for (const block of blocks) await writeFile(join(consumer, block.file), block.code);
      const files = ["consumer.ts", "entries.ts", ...blocks.map((block) => block.file)];
      for (const resolution of ["node16", "bundler"]) {
        const config = JSON.stringify(tsconfig(resolution, files), null, 2);
        await writeFile(join(consumer, `tsconfig.${resolution}.json`), config);
      }
    });

    it("has the floor hono installed", () => {
      const installed = JSON.parse(
        readFileSync(join(consumer, "node_modules/hono/package.json"), "utf8"),
      );
      assert.equal(installed.version, honoFloor);
    });

    for (const resolution of ["node16", "bundler"]) {
      it(`typechecks every entry point (moduleResolution ${resolution}, strict)`, async () => {
        const output = await typecheck(resolution);
        // Every error but the docs blocks' own: consumer.ts, entries.ts, the package's .d.ts.
        const errors = output
          .split("\n")
          .filter((line) => line.includes("error TS") && !line.startsWith("blocks/"));
        assert.deepEqual(errors, [], output);
      });

      it(`typechecks the docs' ts blocks (moduleResolution ${resolution}, strict)`, async (t) => {
        const output = await typecheck(resolution);
        for (const block of blocks) {
          await t.test(`${block.doc}:${block.line} (${block.file})`, () => {
            const errors = blockErrors(output, block);
            const why = `${block.doc}, the block at line ${block.line}:\n${errors.join("\n")}`;
            assert.ok(errors.length === 0, why);
          });
        }
      });
    }

    it("runs every entry point with node on a distribution fixture", async () => {
      const { stdout } = await sh(process.execPath, ["run.mjs"], { cwd: consumer });
      const result = JSON.parse(stdout.trim().split("\n").at(-1));
      assert.deepEqual(
        result.entries,
        entries.map((entry) => entry.subpath),
      );
      assert.ok(result.events >= 1, stdout);
      assert.equal(result.action, "push");
      assert.equal(result.status, 202);
      assert.equal(result.received, result.events);
      if (has("./webhooks")) assert.equal(result.verified, "msg_1");
      if (has("./schema")) assert.equal(result.schemaEvents, result.events);
    });
  });
});
