// The notification validator, entirely in the page: distribution's envelope with the core's
// safeParseEnvelope, every other registry's webhook (with its headers) with normalizeNotification,
// and for a chosen event what the relay sends (encoded-view.ts). A dropped file is parsed from its
// bytes (so a bad UTF-8 sequence or a BOM is judged exactly as the relay would judge it); editing
// the text switches back to the text.
import {
  type Envelope,
  type EnvelopeIssue,
  type Event,
  EventsMediaType,
  encodeEnvelope,
  safeParseEnvelope,
} from "registry-relay";
import { createBridge, uuidv4 } from "registry-relay/bridge";
import { FormatError, type InputFormat, normalizeNotification } from "registry-relay/formats";
import { byId, h, replaceChildren, syncRows } from "./dom.ts";
import { EncodedView } from "./encoded-view.ts";
import { formatBytes, formatCount, mediaTypeName, middleTruncate } from "./format.ts";
import { parseHeaderText } from "./header-text.ts";

/** The verdict of one body; `unsupported`: what distribution has no action for (not errors). */
export type ValidationResult =
  | { ok: true; envelope: Envelope; bytes: number; unsupported?: Event[] }
  | { ok: false; issues: EnvelopeIssue[]; bytes: number }
  | { ok: null };

/**
 * Validates a body (text or raw bytes) with the core; blank text means "nothing yet".
 *
 * @example
 * ```ts
 * import { validateBody } from "./validator-view.ts";
 * validateBody('{"events":[]}'); // { ok: true, envelope: { events: [] }, bytes: 13 }
 * ```
 */
export function validateBody(body: string | Uint8Array): ValidationResult {
  if (typeof body === "string" && body.trim() === "") return { ok: null };
  const bytes = byteLength(body);
  const result = safeParseEnvelope(body);
  return result.success
    ? { ok: true, envelope: result.envelope, bytes }
    : { ok: false, issues: result.issues, bytes };
}

/**
 * Normalizes a notification of any input format in the page: `distribution` with
 * {@link validateBody}, the others with the core's `normalizeNotification`, given the request's
 * headers as `Name: value` lines (zot's `Ce-*`, GitHub's `X-GitHub-Event`, a `Content-Type`).
 *
 * @example
 * ```ts
 * import { normalizeBody } from "./validator-view.ts";
 * await normalizeBody("github", body, "X-GitHub-Event: package"); // { ok: true, envelope, ... }
 * ```
 */
export async function normalizeBody(
  format: InputFormat,
  body: string | Uint8Array,
  headerText = "",
): Promise<ValidationResult> {
  if (format === "distribution") return validateBody(body);
  if (typeof body === "string" && body.trim() === "") return { ok: null };
  const bytes = byteLength(body);
  let path = "(headers)";
  try {
    const headers = parseHeaderText(headerText);
    path = "";
    const { events, unsupported } = await normalizeNotification(format, { body, headers });
    return { ok: true, envelope: { events }, unsupported, bytes };
  } catch (error) {
    const issues =
      error instanceof FormatError ? error.issues : [{ path, message: (error as Error).message }];
    return { ok: false, issues, bytes };
  }
}

const byteLength = (body: string | Uint8Array) =>
  typeof body === "string" ? new TextEncoder().encode(body).length : body.length;

/** What each format's headers look like (the headers field's placeholder). */
const headerHints: Partial<Record<InputFormat, string>> = {
  github: "X-GitHub-Event: package\nX-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958",
  zot: "Ce-Specversion: 1.0\nCe-Id: 6ff55bd6-…\nCe-Type: zotregistry.image.updated\nCe-Source: zotregistry.dev\nCe-Time: 2025-01-01T00:00:00Z",
  harbor: "Content-Type: application/cloudevents+json  (Harbor's CloudEvents format)",
};

/** One row of the events table: an event or an unsupported one, numbered across both. */
interface EventRow {
  event: Event;
  index: number;
  unsupported: boolean;
}

/**
 * A sample envelope built with the core's bridge (a two-layer push then a tag delete), encoded
 * exactly as distribution encodes it.
 *
 * @example
 * ```ts
 * import { sampleEnvelope } from "./validator-view.ts";
 * const body = sampleEnvelope();
 * ```
 */
export function sampleEnvelope(): string {
  const bridge = createBridge({
    source: { addr: "registry-0:5000", instanceID: uuidv4() },
    actor: { name: "ci-bot" },
    request: {
      id: uuidv4(),
      addr: "10.0.0.7:51234",
      host: "registry.example.com",
      method: "PUT",
      useragent: "docker/27.3.1",
    },
    baseUrl: "https://registry.example.com",
  });
  const layer = (hex: string, size: number) => ({
    digest: `sha256:${hex.repeat(64 / hex.length)}`,
    size,
  });
  const events = [
    bridge.blobPushed("team/app", layer("a1", 2_811_048)),
    bridge.blobPushed("team/app", layer("b2", 31_457)),
    bridge.manifestPushed(
      "team/app",
      { mediaType: "application/vnd.oci.image.manifest.v1+json", ...layer("c3", 1_024) },
      { tag: "v1.4.0" },
    ),
    bridge.tagDeleted("team/app", "v1.3.9"),
  ];
  return encodeEnvelope({ events }, { mediaType: EventsMediaType });
}

/**
 * The validator panel of the page shell.
 *
 * @example
 * ```ts
 * import { ValidatorView } from "./validator-view.ts";
 * new ValidatorView();
 * ```
 */
export class ValidatorView {
  readonly #input = byId("validator-input", HTMLTextAreaElement);
  readonly #format = byId("validator-format", HTMLSelectElement);
  readonly #headersField = byId("validator-headers-field", HTMLLabelElement);
  readonly #headers = byId("validator-headers", HTMLTextAreaElement);
  readonly #drop = byId("validator-drop", HTMLDivElement);
  readonly #file = byId("validator-file", HTMLInputElement);
  readonly #source = byId("validator-source", HTMLSpanElement);
  readonly #verdict = byId("validator-verdict", HTMLDivElement);
  readonly #verdictText = byId("validator-verdict-text", HTMLSpanElement);
  readonly #events = byId("validator-events", HTMLTableElement);
  readonly #eventsBody = byId("validator-events-body", HTMLTableSectionElement);
  readonly #issues = byId("validator-issues", HTMLTableElement);
  readonly #issuesBody = byId("validator-issues-body", HTMLTableSectionElement);
  readonly #encoded = new EncodedView();
  /** The dropped file's exact bytes, until the text is edited. */
  #bytes: Uint8Array | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Validations started: only the latest one's verdict is shown. */
  #runs = 0;
  #rows: EventRow[] = [];
  /** The row whose encodings are shown. */
  #selected = 0;

  constructor() {
    const later = () => {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.validate(), 120);
    };
    this.#input.addEventListener("input", () => {
      this.#bytes = null;
      replaceChildren(this.#source, this.#input.value ? "pasted text" : "\u00a0");
      later();
    });
    this.#headers.addEventListener("input", later);
    this.#format.addEventListener("change", () => this.#formatChanged());
    this.#file.addEventListener("change", () => {
      const file = this.#file.files?.[0];
      if (file) void this.loadFile(file);
      this.#file.value = "";
    });
    byId("validator-sample", HTMLButtonElement).addEventListener("click", () => {
      this.#bytes = null;
      this.#input.value = sampleEnvelope();
      this.#format.value = "distribution";
      replaceChildren(this.#source, "sample built with the core's createBridge");
      this.#formatChanged();
    });
    byId("validator-clear", HTMLButtonElement).addEventListener("click", () => {
      this.#bytes = null;
      this.#input.value = "";
      replaceChildren(this.#source, "\u00a0");
      void this.validate();
    });
    acceptDrops(this.#drop, (file) => void this.loadFile(file));
  }

  /** Loads a file's bytes as the body. */
  async loadFile(file: File): Promise<void> {
    const bytes = new Uint8Array(await file.arrayBuffer());
    this.#bytes = bytes;
    this.#input.value = new TextDecoder().decode(bytes);
    replaceChildren(this.#source, `${file.name} · ${formatBytes(bytes.length)} (exact bytes)`);
    await this.validate();
  }

  /** Validates the current body in the chosen format and renders the verdict. */
  async validate(): Promise<void> {
    clearTimeout(this.#timer);
    const run = ++this.#runs;
    const format = this.#format.value as InputFormat;
    const result = await normalizeBody(
      format,
      this.#bytes ?? this.#input.value,
      this.#headers.value,
    );
    if (run === this.#runs) this.render(result);
  }

  #formatChanged(): void {
    const format = this.#format.value as InputFormat;
    this.#headersField.hidden = format === "distribution";
    this.#headers.placeholder = headerHints[format] ?? "Content-Type: application/json";
    void this.validate();
  }

  /** Renders a verdict. */
  render(result: ValidationResult): void {
    this.#rows = [];
    if (result.ok === null) {
      this.#setVerdict("none", "Waiting for a body.");
      this.#events.hidden = true;
      this.#issues.hidden = true;
      this.#select(0);
      return;
    }
    const envelope = this.#format.value === "distribution";
    const what = envelope ? "envelope" : `${this.#format.selectedOptions[0]?.text} notification`;
    if (result.ok) {
      const { events } = result.envelope;
      const unsupported = result.unsupported ?? [];
      this.#rows = [...events, ...unsupported].map((event, index) => ({
        event,
        index,
        unsupported: index >= events.length,
      }));
      const n = events.length;
      const others =
        unsupported.length > 0 ? `, ${formatCount(unsupported.length)} unsupported` : "";
      this.#setVerdict(
        "ok",
        `Valid ${what}: ${formatCount(n)} event${n === 1 ? "" : "s"}${others}, ${formatBytes(result.bytes)}.`,
      );
      this.#issues.hidden = true;
      this.#events.hidden = false;
      syncRows(
        this.#eventsBody,
        this.#rows,
        (row) => String(row.index),
        () => h("tr"),
        (tr, row) => this.#fillRow(tr, row),
      );
      this.#select(this.#selected < this.#rows.length ? this.#selected : 0);
      return;
    }
    const n = result.issues.length;
    this.#setVerdict("bad", `Not a valid ${what}: ${formatCount(n)} issue${n === 1 ? "" : "s"}.`);
    this.#events.hidden = true;
    this.#issues.hidden = false;
    this.#select(0);
    syncRows(
      this.#issuesBody,
      result.issues,
      (issue) => `${issue.path}\u0000${issue.message}`,
      () => h("tr"),
      (tr, issue) =>
        replaceChildren(
          tr,
          h(
            "td",
            { class: "path", title: issue.path || "(the body itself)" },
            issue.path || "(body)",
          ),
          h("td", { title: issue.message }, issue.message),
        ),
    );
  }

  #fillRow(tr: HTMLTableRowElement, { event, index, unsupported }: EventRow): void {
    const target = event.target ?? {};
    const what = target.mediaType
      ? mediaTypeName(target.mediaType)
      : target.digest
        ? "digest"
        : target.tag
          ? "tag"
          : "repository";
    const origin = (event as { origin?: { type?: string } }).origin?.type;
    const pick = h(
      "button",
      { class: "link", type: "button", title: `What the relay sends for event ${index + 1}` },
      String(index + 1),
    );
    pick.addEventListener("click", () => this.#select(index));
    replaceChildren(
      tr,
      h("td", { class: "num" }, pick),
      h(
        "td",
        { title: unsupported ? `no distribution action; CloudEvents type ${event.action}` : null },
        h(
          "span",
          { class: `badge plain ${unsupported ? "warn" : actionTone(event.action)}` },
          unsupported ? "unsupported" : event.action,
        ),
        // The CloudEvents type of an unsupported event; the source's own type of a normalized one.
        (unsupported || origin) &&
          h("div", { class: "cell-sub mono" }, unsupported ? event.action : origin),
      ),
      h("td", { title: target.repository ?? "" }, target.repository ?? ""),
      h("td", { title: target.tag ?? "" }, target.tag ?? "—"),
      h(
        "td",
        { title: [target.mediaType, target.digest].filter(Boolean).join("\n") },
        h("div", { class: "cell-main" }, what),
        h(
          "div",
          { class: "cell-sub mono" },
          target.digest ? middleTruncate(target.digest, 30) : "",
        ),
      ),
      h("td", { class: "num" }, typeof target.size === "number" ? formatBytes(target.size) : "—"),
      h("td", { class: "mono", title: event.timestamp }, shortTimestamp(event.timestamp)),
    );
  }

  /** Marks row `index` and shows what the relay sends for its event (nothing without rows). */
  #select(index: number): void {
    this.#selected = index;
    for (const tr of Array.from(this.#eventsBody.rows)) {
      const chosen = tr.dataset.key === String(index);
      tr.classList.toggle("selected", chosen);
      tr.querySelector("button")?.setAttribute("aria-pressed", String(chosen));
    }
    const row = this.#rows[index];
    const target = row?.event.target;
    this.#encoded.show(
      row?.event,
      row &&
        `event ${index + 1}: ${row.event.action} ${target?.repository}${target?.tag ? `:${target.tag}` : ""}`,
    );
  }

  #setVerdict(tone: "ok" | "bad" | "none", text: string): void {
    this.#verdict.className = `verdict ${tone}`;
    replaceChildren(this.#verdictText, text);
  }
}

/** `2026-11-27T17:19:34.211127926Z` → `2026-11-27 17:19:34Z` (the full value is the tooltip). */
function shortTimestamp(timestamp: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(
    timestamp,
  );
  return match ? `${match[1]} ${match[2]}${match[3]}` : timestamp;
}

function actionTone(action: string): string {
  return action === "push" || action === "mount" ? "ok" : action === "delete" ? "bad" : "none";
}

/**
 * Makes an element accept dropped files (highlighted while dragging).
 *
 * @example
 * ```ts
 * import { acceptDrops } from "./validator-view.ts";
 * acceptDrops(panel, (file) => load(file));
 * ```
 */
export function acceptDrops(zone: HTMLElement, onFile: (file: File) => void): void {
  let depth = 0;
  // Only file drags are ours: dragging text into a textarea keeps its default behaviour.
  const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes("Files") ?? false;
  zone.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth++;
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
  });
  zone.addEventListener("dragleave", (event) => {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.classList.remove("dragging");
  });
  zone.addEventListener("drop", (event) => {
    const file = event.dataTransfer?.files?.[0];
    depth = 0;
    zone.classList.remove("dragging");
    if (!file) return;
    event.preventDefault();
    onFile(file);
  });
}
