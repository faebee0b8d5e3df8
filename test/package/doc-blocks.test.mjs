// doc-blocks.mjs: which fenced blocks count as TypeScript, their line numbers, and tsc's errors
// moved into the doc. No I/O beyond reading README.md and docs/.
// Run: node --test --test-reporter=spec test/package/
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { repoRoot } from "../support/relay-process.mjs";
import { blockErrors, docBlocks, docFiles, tsBlocks } from "./doc-blocks.mjs";

const markdown = [
  "# Title", // 1
  "", // 2
  "```ts", // 3
  'import { parseEnvelope } from "registry-relay";', // 4
  "```", // 5
  "```sh", // 6
  "npm test", // 7
  "```", // 8
  "- a list item:", // 9
  "", // 10
  "  ```typescript", // 11
  "  const a = 1;", // 12
  "  ```", // 13
  "````TS", // 14
  "```", // 15
  "````", // 16
  "~~~ts title=x.ts", // 17
  "let b = 2;", // 18
  "~~~", // 19
  "```", // 20
  "```ts", // 21 (inside an untyped block: not a block of its own)
  "```", // 22
].join("\n");

describe("doc blocks", () => {
  it("finds ```ts and ```typescript fences (``` or ~~~, indented, longer) with their line", () => {
    assert.deepEqual(tsBlocks(markdown), [
      { line: 3, lang: "ts", code: 'import { parseEnvelope } from "registry-relay";\n' },
      { line: 11, lang: "typescript", code: "const a = 1;\n" },
      { line: 14, lang: "TS", code: "```\n" },
      { line: 17, lang: "ts", code: "let b = 2;\n" },
    ]);
  });

  it("reads README.md and docs/*.md, one blocks/<doc>-<n>.ts file per block", () => {
    const docs = docFiles(repoRoot);
    assert.equal(docs[0], "README.md");
    assert.ok(
      docs.every((doc) => doc === "README.md" || /^docs\/[^/]+\.md$/.test(doc)),
      `${docs}`,
    );
    const blocks = docBlocks(repoRoot);
    assert.ok(blocks.some((block) => block.file === "blocks/README-1.ts"));
    const files = blocks.map((block) => block.file);
    assert.equal(new Set(files).size, files.length);
  });

  it("moves tsc's positions into the doc and keeps elaborations", () => {
    const block = { doc: "docs/x.md", line: 40, file: "blocks/docs-x-2.ts" };
    const output = [
      "blocks/docs-x-1.ts(1,1): error TS2304: Cannot find name 'other'.",
      "blocks/docs-x-2.ts(3,5): error TS2345: Argument of type 'string | undefined' is not assignable.",
      "  Type 'undefined' is not assignable to type 'string'.",
      "blocks/docs-x-2.ts(7,1): error TS2304: Cannot find name 'bytes'.",
    ].join("\n");
    assert.deepEqual(blockErrors(output, block), [
      "docs/x.md:43:5 TS2345: Argument of type 'string | undefined' is not assignable.\n" +
        "  Type 'undefined' is not assignable to type 'string'.",
      "docs/x.md:47:1 TS2304: Cannot find name 'bytes'.",
    ]);
  });
});
