// Bar charts as inline SVG, without a library. Each series is one `<svg role="img">` whose
// aria-label says what it shows; its bars keep their place across refreshes (updated in place,
// like the tables); and the numbers are in a table under a "Numbers" disclosure, for screen
// readers and for whoever would rather read them. Sizes are SVG attributes, never inline styles,
// which the page's CSP blocks.
import { h, setAttr, setText, syncRows } from "./dom.ts";
import { formatCount } from "./format.ts";

/** One series of a chart: one value per slot, drawn on its own scale. */
export interface Series {
  name: string;
  /** The bars' colour: a class of styles.css. */
  tone: "accent" | "ok" | "warn" | "bad";
  values: readonly number[];
  /** A sentence saying what the bars show (the aria-label of the series). */
  summary: string;
}

/** What a chart shows: the slots along its x axis and the series drawn over them. */
export interface ChartData {
  /** Each slot's name (tooltips, the table's first column). */
  slots: readonly string[];
  /** The label under each slot, `""` for none. */
  ticks: readonly string[];
  /** The header of the table's first column. */
  slotHeader: string;
  series: readonly Series[];
  /** Leave the slots where every series is 0 out of the table. */
  skipEmpty?: boolean;
}

const svgNs = "http://www.w3.org/2000/svg";
const svg = (tag: string, attrs: Record<string, string> = {}): SVGElement => {
  const element = document.createElementNS(svgNs, tag) as SVGElement;
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  return element;
};
/** The chart's height in viewBox units (the width is one unit per slot, stretched by CSS). */
const height = 100;

/** The total of a series, for its row and its summary. */
export const total = (values: readonly number[]) => values.reduce((sum, n) => sum + n, 0);

/** Keeps one series' `<svg>` in step: one `<rect>` (with a `<title>`) per slot. */
function drawBars(chart: SVGElement, series: Series, slots: readonly string[]): void {
  setAttr(chart, "class", `chart-bars ${series.tone}`);
  setAttr(chart, "aria-label", series.summary);
  setAttr(chart, "viewBox", `0 0 ${slots.length} ${height}`);
  while (chart.children.length > slots.length) chart.lastElementChild?.remove();
  while (chart.children.length < slots.length) {
    chart.append(svg("rect", { width: "0.72" }));
    chart.lastElementChild?.append(svg("title"));
  }
  const most = Math.max(1, ...series.values);
  Array.from(chart.children).forEach((bar, index) => {
    const value = series.values[index] ?? 0;
    // A bar that counts anything stays visible next to a tall one.
    const tall = value > 0 ? Math.max(2, (value / most) * height) : 0;
    setAttr(bar, "x", String(index + 0.14));
    setAttr(bar, "y", String(height - tall));
    setAttr(bar, "height", String(tall));
    setText(bar.firstElementChild as Element, `${slots[index]}: ${formatCount(value)}`);
  });
}

/**
 * A bar chart in a container of the page: a row of bars per series with its name and total, the
 * slot labels under them, and the numbers as a table.
 *
 * @example
 * ```ts
 * import { BarChart } from "./charts.ts";
 * const chart = new BarChart(byId("detail-activity", HTMLDivElement), "Per minute");
 * chart.render({ slots, ticks, slotHeader: "Minute", series: [{ name: "Delivered", tone: "ok", values, summary }] });
 * ```
 */
export class BarChart {
  readonly #rows = h("div", { class: "chart-rows" });
  readonly #ticks = h("div", { class: "chart-ticks" });
  readonly #head = h("tr", {});
  readonly #body = h("tbody", {});

  constructor(container: HTMLElement, caption: string) {
    container.replaceChildren(
      this.#rows,
      h("div", { class: "chart-row chart-axis", "aria-hidden": "true" }, h("span"), this.#ticks),
      h(
        "details",
        { class: "chart-data" },
        h("summary", {}, "Numbers"),
        h(
          "table",
          { class: "chart-table" },
          h("caption", { class: "visually-hidden" }, caption),
          h("thead", {}, this.#head),
          this.#body,
        ),
      ),
    );
  }

  /** Draws `data`, changing only what differs from the last render. */
  render(data: ChartData): void {
    const { slots, series } = data;
    syncRows(
      this.#rows,
      series,
      (one) => one.name,
      () =>
        h(
          "div",
          { class: "chart-row" },
          h("span", { class: "chart-name" }),
          svg("svg", { role: "img", preserveAspectRatio: "none" }),
          h("span", { class: "chart-total" }),
        ),
      (row, one) => {
        const [name, chart, sum] = Array.from(row.children) as [Element, SVGElement, Element];
        setText(name, one.name);
        drawBars(chart, one, slots);
        setText(sum, formatCount(total(one.values)));
      },
    );
    syncRows(
      this.#ticks,
      data.ticks.map((tick, index) => [String(index), tick] as const),
      ([key]) => key,
      () => h("span"),
      (cell, [, tick]) => setText(cell, tick),
    );
    const columns = [data.slotHeader, ...series.map((one) => one.name)];
    syncRows(
      this.#head,
      columns,
      (column) => column,
      (column) => h("th", { scope: "col" }, column),
      () => {},
    );
    const rows = slots.flatMap((slot, index) => {
      const values = series.map((one) => one.values[index] ?? 0);
      return data.skipEmpty && values.every((n) => n === 0) ? [] : [{ slot, values }];
    });
    syncRows(
      this.#body,
      rows,
      (row) => row.slot,
      () => h("tr", {}, h("th", { scope: "row" }), ...series.map(() => h("td", { class: "num" }))),
      (tr, row) => {
        const [slot, ...cells] = Array.from(tr.children);
        setText(slot as Element, row.slot);
        cells.forEach((cell, index) => {
          setText(cell, formatCount(row.values[index]));
        });
      },
    );
  }
}
