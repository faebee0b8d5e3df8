// The endpoints table and summary tiles: one row per configured endpoint, updated in place on
// every refresh (buttons keep focus, nothing reflows).
import type { EndpointView } from "./api.ts";
import { byId, h, replaceChildren, setAttr, setText, syncRows } from "./dom.ts";
import {
  endpointRouting,
  formatCount,
  formatDue,
  formatDuration,
  formatInstant,
  formatStatus,
  readableError,
  statusTone,
} from "./format.ts";

/** What the rows' buttons do. */
export interface EndpointActions {
  pause(name: string): void;
  resume(name: string): void;
  showQueue(name: string): void;
  /** Opens (or closes) the endpoint's detail panel. */
  showDetail(name: string): void;
}

/** The cells of one row that change between refreshes. */
interface RowParts {
  name: HTMLElement;
  format: HTMLElement;
  url: HTMLElement;
  state: HTMLElement;
  stateNote: HTMLElement;
  depth: HTMLElement;
  oldest: HTMLElement;
  dead: HTMLElement;
  status: HTMLElement;
  error: HTMLElement;
  next: HTMLElement;
  toggle: HTMLButtonElement;
  queue: HTMLButtonElement;
}

const parts = new WeakMap<HTMLTableRowElement, RowParts>();

/**
 * A state badge's text and colour: active is green, paused amber, disabled grey; an active
 * endpoint that is failing (a backlog and a last error) is shown red as "retrying".
 *
 * @example
 * ```ts
 * import { stateBadge } from "./endpoints-view.ts";
 * stateBadge(endpoint); // { text: "Paused", tone: "warn" }
 * ```
 */
export function stateBadge(endpoint: Pick<EndpointView, "state" | "depth" | "lastError">): {
  text: string;
  tone: "ok" | "warn" | "bad" | "none";
} {
  if (endpoint.state === "disabled") return { text: "Disabled", tone: "none" };
  if (endpoint.state === "paused") return { text: "Paused", tone: "warn" };
  if (endpoint.depth > 0 && endpoint.lastError) return { text: "Retrying", tone: "bad" };
  return { text: "Active", tone: "ok" };
}

/**
 * Renders endpoints into the table and tiles of the page shell.
 *
 * @example
 * ```ts
 * import { EndpointsView } from "./endpoints-view.ts";
 * const view = new EndpointsView({ pause, resume, showQueue });
 * view.render(endpoints, fetchedAt, Date.now());
 * ```
 */
export class EndpointsView {
  readonly #actions: EndpointActions;
  readonly #body = byId("endpoints-body", HTMLTableSectionElement);
  readonly #empty = byId("endpoints-empty", HTMLDivElement);
  /** Names with an action in flight: their buttons stay disabled until it settles. */
  readonly busy = new Set<string>();
  /** The endpoint whose details are open (its row is marked). */
  selected: string | null = null;

  constructor(actions: EndpointActions) {
    this.#actions = actions;
  }

  /** Shows a message instead of rows (not connected, loading, error). */
  showMessage(title: string, text: string, tone: "none" | "bad" = "none"): void {
    this.#body.replaceChildren();
    this.#empty.hidden = false;
    this.#empty.className = `empty ${tone === "bad" ? "bad" : ""}`;
    replaceChildren(
      this.#empty,
      h("p", { class: "empty-title" }, title),
      h("p", { class: "empty-text" }, text),
    );
    for (const id of ["tile-endpoints", "tile-pending", "tile-dead", "tile-delivered"]) {
      setText(byId(id, HTMLSpanElement), "—");
      byId(id, HTMLSpanElement).className = "tile-value";
      setText(byId(`${id}-sub`, HTMLSpanElement), "\u00a0");
    }
  }

  /**
   * Renders the latest endpoints. Ages tick locally between refreshes: `fetchedAt` is when the
   * relay answered, `now` the time to show.
   */
  render(endpoints: readonly EndpointView[], fetchedAt: number, now: number): void {
    this.#renderTiles(endpoints);
    if (endpoints.length === 0) {
      this.showMessage("No endpoints", "RELAY_ENDPOINTS lists no endpoint: nothing is relayed.");
      return;
    }
    this.#empty.hidden = true;
    syncRows(
      this.#body,
      endpoints,
      (endpoint) => endpoint.name,
      (endpoint) => this.#createRow(endpoint.name),
      (row, endpoint) => this.#updateRow(row, endpoint, fetchedAt, now),
    );
  }

  #renderTiles(endpoints: readonly EndpointView[]): void {
    const sum = (pick: (e: EndpointView) => number) =>
      endpoints.reduce((n, e) => n + (pick(e) || 0), 0);
    const paused = endpoints.filter((e) => e.state === "paused").length;
    const disabled = endpoints.filter((e) => e.state === "disabled").length;
    const failing = endpoints.filter((e) => stateBadge(e).tone === "bad").length;
    const pending = sum((e) => e.depth);
    const dead = sum((e) => e.deadLetters);
    const oldest = Math.max(0, ...endpoints.map((e) => e.oldestPendingAgeMs ?? 0));
    const tile = (id: string, value: string, sub: string, tone = "") => {
      const element = byId(id, HTMLSpanElement);
      setText(element, value);
      element.className = `tile-value ${tone}`;
      setText(byId(`${id}-sub`, HTMLSpanElement), sub || "\u00a0");
    };
    const notes = [
      failing && `${failing} retrying`,
      paused && `${paused} paused`,
      disabled && `${disabled} disabled`,
    ].filter(Boolean);
    tile("tile-endpoints", formatCount(endpoints.length), notes.join(" · ") || "all active");
    tile(
      "tile-pending",
      formatCount(pending),
      pending > 0 ? `oldest ${formatDuration(oldest)}` : "queues are empty",
    );
    tile(
      "tile-dead",
      formatCount(dead),
      dead > 0 ? `in ${endpoints.filter((e) => e.deadLetters > 0).length} endpoint(s)` : "none",
      dead > 0 ? "bad" : "",
    );
    const attempts = sum((e) => e.metrics?.successes ?? 0);
    const failed = sum((e) => (e.metrics?.failures ?? 0) + (e.metrics?.errors ?? 0));
    tile(
      "tile-delivered",
      formatCount(attempts),
      `successful attempts · ${formatCount(failed)} failed`,
    );
  }

  #createRow(name: string): HTMLTableRowElement {
    const text = (cls: string) => h("div", { class: cls });
    const p: RowParts = {
      name: h("button", {
        class: "cell-main name link",
        type: "button",
        "aria-controls": "endpoint-detail",
      }),
      format: h("span", { class: "fmt" }),
      url: h("span"),
      state: h("span", { class: "badge none" }),
      stateNote: text("cell-sub"),
      depth: h("span", { class: "big-num" }),
      oldest: h("span"),
      dead: h("span"),
      status: h("span", { class: "badge plain none" }),
      error: text("cell-sub"),
      next: h("span"),
      toggle: h("button", { class: "button row-action", type: "button" }),
      queue: h("button", { class: "button row-action", type: "button" }, "Dead letters"),
    };
    p.toggle.addEventListener("click", () => {
      const paused = p.toggle.dataset.action === "resume";
      if (paused) this.#actions.resume(name);
      else this.#actions.pause(name);
    });
    p.queue.addEventListener("click", () => this.#actions.showQueue(name));
    p.name.addEventListener("click", () => this.#actions.showDetail(name));
    const row = h(
      "tr",
      {},
      h("td", {}, p.name, h("div", { class: "cell-sub mono" }, p.format, p.url)),
      h("td", {}, h("div", { class: "cell-main" }, p.state), p.stateNote),
      h("td", { class: "num" }, p.depth),
      h("td", { class: "num" }, p.oldest),
      h("td", { class: "num" }, p.dead),
      h("td", {}, h("div", { class: "cell-main" }, p.status), p.error),
      h("td", { class: "num" }, p.next),
      h("td", {}, h("div", { class: "actions" }, p.toggle, p.queue)),
    );
    parts.set(row, p);
    return row;
  }

  #updateRow(
    row: HTMLTableRowElement,
    endpoint: EndpointView,
    fetchedAt: number,
    now: number,
  ): void {
    const p = parts.get(row);
    if (!p) return;
    const elapsed = Math.max(0, now - fetchedAt);
    setText(p.name, endpoint.name);
    const open = this.selected === endpoint.name;
    setAttr(p.name, "title", `${endpoint.name}: settings, latency and partitions`);
    setAttr(p.name, "aria-expanded", String(open));
    row.classList.toggle("selected", open);
    const url = endpoint.config?.url ?? "";
    setText(p.url, url);
    setAttr(p.url, "title", url || null);
    const { format, match } = endpointRouting(endpoint.config ?? {});
    setText(p.format, match ? `${format} · filtered` : format);
    setAttr(p.format, "title", `Sends ${format}${match ? `; only events with ${match}` : ""}`);

    const badge = stateBadge(endpoint);
    setText(p.state, badge.text);
    p.state.className = `badge ${badge.tone}`;
    const note =
      endpoint.state === "paused"
        ? (endpoint.pauseReason ?? "paused")
        : endpoint.state === "disabled"
          ? "disabled in config"
          : (endpoint.config?.partitions ?? 1) > 1
            ? `${endpoint.config.partitions} partitions`
            : "";
    setText(p.stateNote, note);
    setAttr(p.stateNote, "title", note || null);

    setText(p.depth, formatCount(endpoint.depth));
    p.depth.className = endpoint.depth > 0 ? "big-num" : "big-num zero";
    const age = endpoint.oldestPendingAgeMs === null ? null : endpoint.oldestPendingAgeMs + elapsed;
    setText(p.oldest, formatDuration(age));
    p.oldest.className = age === null ? "zero" : "";

    setText(p.dead, formatCount(endpoint.deadLetters));
    p.dead.className = endpoint.deadLetters > 0 ? "count-pill" : "zero";

    const tone = statusTone(endpoint.lastStatus);
    const statusLabel =
      endpoint.lastStatus === null && endpoint.lastError
        ? "No answer"
        : formatStatus(endpoint.lastStatus);
    setText(p.status, statusLabel);
    p.status.className = `badge plain ${endpoint.lastStatus === null && endpoint.lastError ? "bad" : tone}`;
    const error = endpoint.lastError
      ? readableError(endpoint.lastError)
      : endpoint.lastStatus === null
        ? "no delivery yet"
        : "";
    setText(p.error, error);
    setAttr(p.error, "title", endpoint.lastError ?? null);

    setText(p.next, endpoint.depth > 0 ? formatDue(endpoint.nextAttemptAt, now) : "—");
    setAttr(p.next, "title", endpoint.nextAttemptAt ? formatInstant(endpoint.nextAttemptAt) : null);

    const paused = endpoint.state === "paused";
    const busy = this.busy.has(endpoint.name);
    setText(p.toggle, paused ? "Resume" : "Pause");
    p.toggle.dataset.action = paused ? "resume" : "pause";
    p.toggle.className = paused ? "button row-action primary" : "button row-action";
    p.toggle.disabled = busy || endpoint.state === "disabled";
    setAttr(p.toggle, "aria-label", `${paused ? "Resume" : "Pause"} ${endpoint.name}`);
    setAttr(p.queue, "aria-label", `Dead letters of ${endpoint.name}`);
  }
}
