// The house rules of docs/architecture.md, checked on the source text: which room may import
// which, no import cycles, no runtime specifics in src/, and no source file past about 400 lines.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sources(path);
    return /\.ts$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

const files = [...sources("src"), ...sources("worker")];
const importRe = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;

/** Relative imports of a file, as repo paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return [...text.matchAll(importRe)]
    .map((match) => match[1] ?? match[2] ?? "")
    .filter((spec) => spec.startsWith("."))
    .map((spec) => relative(root, resolve(root, dirname(file), spec)));
}

/** The room of a file: `src/event`, `worker/queue`, or the file itself at a root. */
const roomOf = (file: string): string => {
  const parts = file.split("/");
  return parts.length > 2 ? parts.slice(0, 2).join("/") : file;
};

/**
 * What each room may import besides itself (src/index.ts, src/schema.ts and worker/index.ts are
 * entry points and may import all).
 */
const allowed: Record<string, string[]> = {
  "src/event": [],
  "src/webhooks": [],
  "src/formats": ["src/event"],
  "src/sinks": ["src/event", "src/webhooks", "src/formats"],
  "src/endpoint": ["src/event", "src/sinks", "src/webhooks", "src/formats"],
  "src/hono": ["src/event", "src/sinks", "src/webhooks", "src/formats"],
  "worker/queue": ["src/*", "worker/env.ts", "worker/admin-api.ts"],
  "worker/routes": ["src/*", "worker/queue", "worker/env.ts", "worker/admin-api.ts"],
  "worker/env.ts": ["src/*", "worker/admin-api.ts"],
  "worker/admin-api.ts": ["src/*"],
};

describe("architecture (docs/architecture.md)", () => {
  it("each room imports only the rooms before it on the envelope's path", () => {
    const breaches: string[] = [];
    for (const file of files) {
      const room = roomOf(file);
      if (["src/index.ts", "src/schema.ts", "worker/index.ts"].includes(room)) continue;
      const may = allowed[room];
      if (may === undefined) {
        breaches.push(`${file}: room ${room} is not in the rules of this test`);
        continue;
      }
      for (const target of importsOf(file)) {
        const to = roomOf(target);
        const ok =
          to === room || may.includes(to) || (may.includes("src/*") && target.startsWith("src/"));
        if (!ok) breaches.push(`${file} imports ${target}`);
      }
    }
    expect(breaches).toEqual([]);
  });

  it("has no import cycles", () => {
    const graph = new Map(files.map((file) => [file, importsOf(file)]));
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const walk = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        cycles.push([...path.slice(path.indexOf(file)), file].join(" → "));
        return;
      }
      state.set(file, "open");
      for (const next of graph.get(file) ?? []) walk(next, [...path, file]);
      state.set(file, "done");
    };
    for (const file of files) walk(file, []);
    expect(cycles).toEqual([]);
  });

  it("keeps runtime specifics out of src/", () => {
    const found: string[] = [];
    for (const file of files.filter((f) => f.startsWith("src/"))) {
      const code = readFileSync(join(root, file), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/\/\/.*$/gm, "");
      for (const pattern of [/from\s*"node:/, /from\s*"cloudflare:/, /\bBuffer\b/, /\bprocess\./]) {
        if (pattern.test(code)) found.push(`${file}: ${pattern}`);
      }
    }
    expect(found).toEqual([]);
  });

  it("keeps every source file under 420 lines (one job per file)", () => {
    const long = files
      .map((file) => [file, readFileSync(join(root, file), "utf8").split("\n").length] as const)
      .filter(([, lines]) => lines > 420)
      .map(([file, lines]) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });
});
