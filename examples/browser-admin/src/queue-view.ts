// One endpoint's dead letters (or pending events): a selectable list with replay (all or the
// selected ids) and purge. Rows are keyed by event id, so a refresh keeps checkboxes as they are.
import type { AdminClient, EndpointView, QueueItemView } from "./api.ts";
import { byId, h, replaceChildren, setAttr, setText, syncRows } from "./dom.ts";
import {
  describeTarget,
  formatCount,
  formatDue,
  formatDuration,
  formatInstant,
  formatStatus,
  formatTarget,
  readableError,
  statusTone,
} from "./format.ts";

/** The largest number of events listed at once (one admin API page). */
export const listLimit = 500;

/** What the toolbar's buttons do (the caller confirms, calls the relay and reports). */
export interface QueueActions {
  replay(endpoint: string, ids?: string[]): Promise<void>;
  purge(endpoint: string, count: number): Promise<void>;
}

/**
 * Why an event was dead-lettered, in words.
 *
 * @example
 * ```ts
 * import { reasonLabel } from "./queue-view.ts";
 * reasonLabel("max-attempts"); // "Attempts exhausted"
 * ```
 */
export function reasonLabel(reason: string | undefined): string {
  switch (reason) {
    case "final":
      return "Final error";
    case "max-attempts":
      return "Attempts exhausted";
    case "max-age":
      return "Too old";
    case undefined:
      return "";
    default:
      return reason;
  }
}

interface RowParts {
  check: HTMLInputElement;
  seq: HTMLElement;
  id: HTMLElement;
  action: HTMLElement;
  repository: HTMLElement;
  target: HTMLElement;
  attempts: HTMLElement;
  status: HTMLElement;
  reason: HTMLElement;
  error: HTMLElement;
  age: HTMLElement;
}

const parts = new WeakMap<HTMLTableRowElement, RowParts>();

/**
 * The dead-letter panel of the page shell.
 *
 * @example
 * ```ts
 * import { QueueView } from "./queue-view.ts";
 * const view = new QueueView({ replay, purge });
 * view.setEndpoints(endpoints);
 * await view.refresh(client, signal);
 * ```
 */
export class QueueView {
  readonly #actions: QueueActions;
  readonly #select = byId("queue-endpoint", HTMLSelectElement);
  readonly #deadButton = byId("queue-dead", HTMLInputElement);
  readonly #pendingButton = byId("queue-pending", HTMLInputElement);
  readonly #summary = byId("queue-summary", HTMLSpanElement);
  readonly #replaySelected = byId("replay-selected", HTMLButtonElement);
  readonly #replayAll = byId("replay-all", HTMLButtonElement);
  readonly #purge = byId("purge", HTMLButtonElement);
  readonly #selectAll = byId("queue-select-all", HTMLInputElement);
  readonly #body = byId("queue-body", HTMLTableSectionElement);
  readonly #empty = byId("queue-empty", HTMLDivElement);
  readonly #ageHeader = byId("queue-age-header", HTMLTableCellElement);

  #endpoint: string | null = null;
  #mode: "dead" | "pending" = "dead";
  #items: QueueItemView[] = [];
  #more = false;
  /** False until the current endpoint and mode have been listed once. */
  #loaded = false;
  #selected = new Set<string>();
  /** True when the listed events come from more than one partition. */
  #partitioned = false;
  #busy = false;
  #counts = new Map<string, { dead: number; pending: number }>();
  /** Bumped whenever endpoint or mode changes, so a late answer for the old view is dropped. */
  #generation = 0;
  #onChange: () => void = () => {};

  constructor(actions: QueueActions) {
    this.#actions = actions;
    this.#select.addEventListener("change", () => this.show(this.#select.value));
    this.#deadButton.addEventListener("change", () => this.#setMode("dead"));
    this.#pendingButton.addEventListener("change", () => this.#setMode("pending"));
    this.#selectAll.addEventListener("change", () => {
      if (this.#selectAll.checked) for (const item of this.#items) this.#selected.add(item.id);
      else this.#selected.clear();
      this.#renderRows(Date.now());
    });
    this.#replaySelected.addEventListener("click", () =>
      this.#run(() => this.#replay([...this.#selected])),
    );
    this.#replayAll.addEventListener("click", () => this.#run(() => this.#replay()));
    this.#purge.addEventListener("click", () =>
      this.#run(() => this.#actions.purge(this.#endpoint ?? "", this.#countOf("dead"))),
    );
    this.#updateToolbar();
  }

  /** The endpoint shown, if any. */
  get endpoint(): string | null {
    return this.#endpoint;
  }

  /** Called when the user changes endpoint or mode (the caller refreshes). */
  onChange(listener: () => void): void {
    this.#onChange = listener;
  }

  /** Switches to an endpoint's dead letters. */
  show(name: string): void {
    if (name !== this.#endpoint) {
      this.#endpoint = name;
      this.#reset();
    }
    this.#select.value = name;
    this.#setMode("dead");
  }

  /** Keeps the endpoint picker and the counts in step with the latest endpoints. */
  setEndpoints(endpoints: readonly EndpointView[]): void {
    this.#counts = new Map(
      endpoints.map((e) => [e.name, { dead: e.deadLetters, pending: e.depth }]),
    );
    syncRows(
      this.#select,
      endpoints,
      (e) => e.name,
      (e) => h("option", { value: e.name }),
      (option, e) =>
        setText(
          option,
          e.deadLetters > 0 ? `${e.name} (${formatCount(e.deadLetters)} dead)` : e.name,
        ),
    );
    if (this.#endpoint === null || !this.#counts.has(this.#endpoint)) {
      const first = endpoints.find((e) => e.deadLetters > 0) ?? endpoints[0];
      this.#endpoint = first?.name ?? null;
      this.#reset();
    }
    if (this.#endpoint !== null) this.#select.value = this.#endpoint;
    this.#updateToolbar();
  }

  /** Shows a message instead of rows. */
  showMessage(title: string, text: string, tone: "none" | "bad" | "ok" = "none"): void {
    this.#body.replaceChildren();
    this.#empty.hidden = false;
    this.#empty.className = `empty ${tone}`;
    replaceChildren(
      this.#empty,
      h("p", { class: "empty-title" }, title),
      h("p", { class: "empty-text" }, text),
    );
  }

  /** Clears everything (disconnected). */
  clear(): void {
    this.#endpoint = null;
    this.#select.replaceChildren();
    this.#reset();
    setText(this.#summary, "\u00a0");
    this.showMessage("Not connected", "Connect to a relay to see its queues.");
    this.#updateToolbar();
  }

  /** Loads the current endpoint's list (one page of up to {@link listLimit} events). */
  async refresh(client: AdminClient, signal?: AbortSignal): Promise<void> {
    const name = this.#endpoint;
    if (name === null) {
      this.showMessage("No endpoints", "RELAY_ENDPOINTS lists no endpoint.");
      return;
    }
    const generation = this.#generation;
    const page = await client.events(name, this.#mode, {
      limit: listLimit,
      ...(signal && { signal }),
    });
    if (generation !== this.#generation) return;
    this.#items = page.items;
    this.#more = page.nextCursor !== null;
    this.#loaded = true;
    this.#partitioned = page.items.some((item) => item.partition > 0);
    const ids = new Set(page.items.map((item) => item.id));
    for (const id of this.#selected) if (!ids.has(id)) this.#selected.delete(id);
    this.render(Date.now());
  }

  /** Re-renders rows, ages and the toolbar. */
  render(now: number): void {
    this.#renderRows(now);
    this.#updateToolbar();
  }

  #reset(): void {
    this.#generation++;
    this.#items = [];
    this.#more = false;
    this.#loaded = false;
    this.#selected.clear();
    this.#body.replaceChildren();
  }

  #setMode(mode: "dead" | "pending"): void {
    if (mode !== this.#mode) {
      this.#mode = mode;
      this.#reset();
    }
    this.#deadButton.checked = mode === "dead";
    this.#pendingButton.checked = mode === "pending";
    setText(this.#ageHeader, mode === "dead" ? "Dead for" : "Waiting");
    this.#updateToolbar();
    this.#onChange();
  }

  #countOf(mode: "dead" | "pending"): number {
    // A complete list is the freshest count; the endpoint snapshot covers partial lists.
    if (this.#loaded && !this.#more && mode === this.#mode) return this.#items.length;
    const counts = this.#endpoint === null ? undefined : this.#counts.get(this.#endpoint);
    return (mode === "dead" ? counts?.dead : counts?.pending) ?? this.#items.length;
  }

  async #replay(ids?: string[]): Promise<void> {
    if (this.#endpoint === null) return;
    await this.#actions.replay(this.#endpoint, ids);
    this.#selected.clear();
  }

  async #run(action: () => Promise<void>): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    this.#updateToolbar();
    try {
      await action();
    } finally {
      this.#busy = false;
      this.render(Date.now());
    }
  }

  #renderRows(now: number): void {
    const dead = this.#mode === "dead";
    if (!this.#loaded) {
      this.showMessage("Loading…", `Listing ${dead ? "dead letters" : "pending events"}.`);
      this.#selectAll.checked = false;
      return;
    }
    if (this.#items.length === 0) {
      const name = this.#endpoint ?? "";
      if (dead) {
        this.showMessage(
          `No dead letters for ${name}`,
          "Events land here when the endpoint rejects them for good (a final 4xx) or their retries run out.",
          "ok",
        );
      } else {
        this.showMessage(
          `Nothing pending for ${name}`,
          "Every accepted event has been delivered.",
          "ok",
        );
      }
      this.#selectAll.checked = false;
      return;
    }
    this.#empty.hidden = true;
    syncRows(
      this.#body,
      this.#items,
      (item) => item.id,
      () => this.#createRow(),
      (row, item) => this.#updateRow(row, item, now),
    );
    this.#selectAll.checked = dead && this.#items.every((item) => this.#selected.has(item.id));
    this.#selectAll.indeterminate = dead && this.#selected.size > 0 && !this.#selectAll.checked;
  }

  #createRow(): HTMLTableRowElement {
    const p: RowParts = {
      check: h("input", { type: "checkbox" }),
      seq: h("span"),
      id: h("span", { class: "mono" }),
      action: h("span", { class: "badge plain none" }),
      repository: h("div", { class: "cell-main" }),
      target: h("div", { class: "cell-sub" }),
      attempts: h("span"),
      status: h("span", { class: "badge plain none" }),
      reason: h("div", { class: "cell-main" }),
      error: h("div", { class: "cell-sub" }),
      age: h("span"),
    };
    const row = h(
      "tr",
      {},
      h("td", {}, p.check),
      h("td", { class: "num" }, p.seq),
      h("td", {}, p.id),
      h("td", {}, p.action),
      h("td", {}, p.repository, p.target),
      h("td", { class: "num" }, p.attempts),
      h("td", {}, p.status),
      h("td", {}, p.reason, p.error),
      h("td", { class: "num" }, p.age),
    );
    p.check.addEventListener("change", () => {
      const id = row.dataset.key ?? "";
      if (p.check.checked) this.#selected.add(id);
      else this.#selected.delete(id);
      this.render(Date.now());
    });
    parts.set(row, p);
    return row;
  }

  #updateRow(row: HTMLTableRowElement, item: QueueItemView, now: number): void {
    const p = parts.get(row);
    if (!p) return;
    const dead = this.#mode === "dead";
    const selected = dead && this.#selected.has(item.id);
    p.check.checked = selected;
    p.check.disabled = !dead;
    setAttr(p.check, "aria-label", `Select event ${item.id}`);
    row.classList.toggle("selected", selected);
    // Several partitions each number their own queue: say which one when it matters.
    setText(p.seq, this.#partitioned ? `p${item.partition}·${item.seq}` : String(item.seq));
    setAttr(p.seq, "title", `partition ${item.partition}, position ${item.seq}`);
    setText(p.id, item.id);
    setAttr(p.id, "title", item.id);
    setText(p.action, item.action);
    // Under the repository: which manifest or blob the event is about (tag, digest, kind).
    const about = describeTarget(item.repository, item);
    setText(p.repository, item.repository);
    setAttr(p.repository, "title", about);
    setText(p.target, formatTarget(item));
    setAttr(p.target, "title", about);
    setText(p.attempts, formatCount(item.attempts));
    const statusLabel =
      item.lastStatus === null
        ? item.lastError
          ? "No answer"
          : "—"
        : formatStatus(item.lastStatus);
    setText(p.status, statusLabel);
    p.status.className =
      item.lastStatus === null
        ? item.lastError
          ? "badge plain bad"
          : "zero"
        : `badge plain ${statusTone(item.lastStatus)}`;
    const reason = dead
      ? reasonLabel(item.reason)
      : item.attempts > 0
        ? `Retry ${formatDue(item.nextAttemptAt, now)}`
        : "Queued";
    setText(p.reason, reason);
    setText(p.error, readableError(item.lastError));
    setAttr(p.error, "title", item.lastError);
    const since = dead ? (item.deadAt ?? item.acceptedAt) : item.acceptedAt;
    setText(p.age, formatDuration(now - since));
    setAttr(p.age, "title", `${dead ? "dead since" : "accepted at"} ${formatInstant(since)}`);
  }

  #updateToolbar(): void {
    const dead = this.#mode === "dead";
    const connected = this.#endpoint !== null;
    const total = this.#countOf(this.#mode);
    const selected = this.#selected.size;
    const shown = this.#items.length;
    const what = dead ? "dead letter" : "pending event";
    const summary = !connected
      ? "\u00a0"
      : !this.#loaded
        ? "loading…"
        : this.#more
          ? `showing the first ${formatCount(shown)} of ${formatCount(total)} ${what}s`
          : `${formatCount(total)} ${what}${total === 1 ? "" : "s"}`;
    setText(this.#summary, summary);
    setText(
      this.#replaySelected,
      selected > 0 ? `Replay selected (${selected})` : "Replay selected",
    );
    this.#replaySelected.disabled = this.#busy || !dead || selected === 0;
    this.#replayAll.disabled = this.#busy || !dead || !connected || total === 0;
    this.#purge.disabled = this.#busy || !dead || !connected || total === 0;
    this.#selectAll.disabled = !dead || shown === 0;
  }
}
