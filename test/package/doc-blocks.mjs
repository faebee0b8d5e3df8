// The TypeScript code blocks of the docs (README.md and docs/*.md), so the package suite can
// typecheck each one as a consumer module against the packed package. Node built-ins only.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The markdown files whose code blocks must compile, relative to the repository root. */
export function docFiles(root) {
  const docs = readdirSync(join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  return ["README.md", ...docs];
}

const tsLanguages = new Set(["ts", "typescript"]);

/**
 * The ```ts and ```typescript fenced blocks of a markdown text (CommonMark fences: ``` or ~~~,
 * up to 3 spaces of indent, or deeper inside a list item; closed by a fence of the same character
 * at least as long). `line` is the 1-based line of the opening fence, so line k of `code` is
 * line `line + k` of the document. The fence's indentation is taken off every line.
 *
 * @returns {{ line: number, lang: string, code: string }[]}
 */
export function tsBlocks(markdown) {
  const lines = markdown.split(/\r?\n/);
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const close = new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end])) end++;
    if (tsLanguages.has(lang.toLowerCase())) {
      const body = lines
        .slice(i + 1, end)
        .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line.trimStart()));
      blocks.push({ line: i + 1, lang, code: `${body.join("\n")}\n` });
    }
    i = end;
  }
  return blocks;
}

/**
 * Every TypeScript block of the docs as a module file for the consumer: `blocks/<source>-<n>.ts`
 * where source is the doc's path without `.md`, slashes as dashes (`README-1.ts`,
 * `docs-architecture-2.ts`) and n counts that doc's TypeScript blocks from 1.
 *
 * @returns {{ doc: string, line: number, n: number, file: string, code: string }[]}
 */
export function docBlocks(root) {
  return docFiles(root).flatMap((doc) =>
    tsBlocks(readFileSync(join(root, doc), "utf8")).map((block, index) => ({
      doc,
      line: block.line,
      n: index + 1,
      file: `blocks/${doc.replace(/\.md$/, "").replaceAll("/", "-")}-${index + 1}.ts`,
      code: block.code,
    })),
  );
}

/**
 * tsc's diagnostics (`--pretty false`) for one block file, with the position moved into the doc:
 * `blocks/README-3.ts(4,7): error TS2304: …` becomes `README.md:123:7 TS2304: …`. A diagnostic
 * may continue on the following indented lines (elaborations); they are kept.
 */
export function blockErrors(output, block) {
  const errors = [];
  const lines = output.split(/\r?\n/);
  const at = /^(.*?)\((\d+),(\d+)\): error (TS\d+): (.*)$/;
  for (let i = 0; i < lines.length; i++) {
    const match = at.exec(lines[i]);
    if (!match || match[1].replaceAll("\\", "/") !== block.file) continue;
    const [, , row, column, code, message] = match;
    const more = [];
    while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1])) more.push(lines[++i].trim());
    const where = `${block.doc}:${block.line + Number(row)}:${column}`;
    errors.push([`${where} ${code}: ${message}`, ...more].join("\n  "));
  }
  return errors;
}
