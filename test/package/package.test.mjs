// The package as a consumer gets it: `npm pack` (which builds, through `prepack`), publint
// --strict and attw (esm-only profile) on the tarball, then a fresh consumer project in the OS temp
// dir that installs the tarball with the oldest supported hono (package.json peerDependencies),
// typechecks a file importing every entry point (node16 and bundler resolution, strict,
// exactOptionalPropertyTypes, no skipLibCheck) and runs one with node on a captured fixture.
// publint and attw read only the tarball: the registry is never asked (npm_config_offline).
// Run: node --test --test-reporter=spec test/package/
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { distributionFixturesDir } from "../fixtures/paths.mjs";
import { repoRoot } from "../support/relay-process.mjs";

const exec = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
/** The oldest hono the peer range admits, e.g. ">=4.0.0" gives "4.0.0". */
const honoFloor = /^>=\s*(\d+\.\d+\.\d+)$/.exec(pkg.peerDependencies?.hono ?? "")?.[1];
const bin = (name) => join(repoRoot, "node_modules/.bin", name);
const fixture = join(distributionFixturesDir, "003-p01-push-alpha-v1--push-oci-manifest-v1.json");
const suiteTimeoutMs = 120_000;
/** Runs a command; on failure the assertion shows its output. */
async function sh(command, args, { cwd = repoRoot, env = {}, timeout = 90_000 } = {}) {
  try {
    return await exec(command, args, {
      cwd,
      timeout,
      maxBuffer: 32 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...env },
    });
  } catch (error) {
    assert.fail(
      `${command} ${args.join(" ")} failed (${error.code ?? error.signal}):\n${error.stdout}\n${error.stderr}`,
    );
  }
}

const consumerTs = `// Every entry point, typed as a consumer uses them.
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
`;

const runMjs = `import { readFileSync } from "node:fs";
import { Hono } from "hono";
import { parseEnvelope } from "registry-relay";
import { parseEnvelope as parseFromEnvelope } from "registry-relay/envelope";
import { receiveEnvelopes } from "registry-relay/hono";

const body = readFileSync(${JSON.stringify(fixture)}, "utf8");
const envelope = parseEnvelope(body);
if (parseFromEnvelope(body).events.length !== envelope.events.length) throw new Error("entries differ");
let received = 0;
const app = new Hono();
app.post("/events", receiveEnvelopes({ tokens: ["t"], onEnvelope: (e) => { received += e.events.length; } }));
const response = await app.request("/events", {
  method: "POST",
  headers: { authorization: "Bearer t", "content-type": "application/vnd.docker.distribution.events.v1+json" },
  body,
});
console.log(JSON.stringify({
  events: envelope.events.length,
  action: envelope.events[0]?.action,
  status: response.status,
  received,
}));
`;

const tsconfig = (moduleResolution) => ({
  compilerOptions: {
    target: "ES2022",
    module: moduleResolution === "node16" ? "node16" : "esnext",
    moduleResolution,
    lib: ["ES2022", "DOM", "DOM.Iterable"],
    types: [],
    strict: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: false,
    noEmit: true,
  },
  files: ["consumer.ts"],
});

describe("package", { timeout: suiteTimeoutMs }, () => {
  let dir;
  let tarball;
  let consumer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "registry-relay-package-"));
    // `npm pack` runs `prepack`, so this also proves that a clean clone builds before packing.
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
      await writeFile(join(consumer, "run.mjs"), runMjs);
      for (const resolution of ["node16", "bundler"]) {
        const config = JSON.stringify(tsconfig(resolution), null, 2);
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
        const tsc = await exec(bin("tsc"), ["-p", `tsconfig.${resolution}.json`], {
          cwd: consumer,
          timeout: 60_000,
        }).catch((error) => error);
        const output = `${tsc.stdout ?? ""}${tsc.stderr ?? ""}`;
        const errors = output.split("\n").filter((line) => line.includes("error TS"));
        assert.deepEqual(errors, [], output);
      });
    }

    it("runs with node: parseEnvelope and receiveEnvelopes on a distribution fixture", async () => {
      const { stdout } = await sh(process.execPath, ["run.mjs"], { cwd: consumer });
      const result = JSON.parse(stdout.trim().split("\n").at(-1));
      assert.ok(result.events >= 1, stdout);
      assert.equal(result.action, "push");
      assert.equal(result.status, 202);
      assert.equal(result.received, result.events);
    });
  });
});
