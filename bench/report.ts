// What a comparison reports, and how the table is printed.
import type { ComparisonResult } from "./harness.ts";

/** A throughput figure: how many `unit`s per second, and how to show it. */
export interface Figure {
  value: number;
  unit: string;
}

export interface Row {
  /** Stable key (JSON output, runtime columns). */
  id: string;
  label: string;
  /** Method notes printed under the row. */
  notes: string[];
  /**
   * Figures, ours and baseline in the same units. The first is the one the ratio is about:
   * ratio = ours ÷ baseline of that figure, a rate, so higher is better everywhere.
   */
  ours: Figure[];
  baseline: Figure[];
  ratio: number;
  /** Per-round ratios (spread). */
  ratios: number[];
  /** Target ratio, or undefined for an informational row. */
  target?: number;
}

export const perSecond = (result: ComparisonResult, scale: number, unit: string) => ({
  ours: { value: result.ours.unitsPerSecond / scale, unit },
  baseline: { value: result.baseline.unitsPerSecond / scale, unit },
});

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value >= 100_000) return `${(value / 1000).toFixed(0)}k`;
  if (value >= 10_000) return `${(value / 1000).toFixed(1)}k`;
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

const figure = (f: Figure): string => `${formatNumber(f.value)} ${f.unit}`;

export const verdict = (row: Row): string =>
  row.target === undefined ? "info" : row.ratio >= row.target ? "PASS" : "BELOW";

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

/** The result table: one block per comparison, aligned columns. */
export function formatTable(rows: readonly Row[]): string {
  const lines: string[] = [];
  const width = Math.max(...rows.map((row) => row.label.length), 10) + 2;
  const header = `${pad("comparison", width)}${pad("ours", 24)}${pad("baseline", 24)}${pad("ratio", 8)}${pad("target", 9)}result`;
  lines.push(
    "ratio = ours / baseline of the first figure (same unit both sides); higher is better",
    header,
    "-".repeat(header.length),
  );
  for (const row of rows) {
    const spread = `rounds ${row.ratios.map((r) => r.toFixed(2)).join(" ")}`;
    lines.push(
      pad(row.label, width) +
        pad(figure(row.ours[0] as Figure), 24) +
        pad(figure(row.baseline[0] as Figure), 24) +
        pad(`${row.ratio.toFixed(2)}x`, 8) +
        pad(row.target === undefined ? "-" : `>=${row.target}x`, 9) +
        verdict(row),
    );
    const extra = row.ours.slice(1);
    if (extra.length > 0) {
      lines.push(
        pad("", width) +
          pad(extra.map(figure).join(", "), 24) +
          pad(row.baseline.slice(1).map(figure).join(", "), 24),
      );
    }
    for (const note of [spread, ...row.notes]) lines.push(`    ${note}`);
  }
  return lines.join("\n");
}
