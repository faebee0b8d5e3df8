// The envelope validator: the core's safeParseEnvelope on a pasted or dropped body, entirely in
// the page. A dropped file is parsed from its bytes (so a bad UTF-8 sequence or a BOM is judged
// exactly as the relay would judge it); editing the text switches back to the text.
import {
  createBridge,
  type Envelope,
  type EnvelopeIssue,
  EventsMediaType,
  encodeEnvelope,
  safeParseEnvelope,
  uuidv4,
} from "registry-relay";
import { byId, h, replaceChildren, syncRows } from "./dom.ts";
import { formatBytes, formatCount, mediaTypeName, middleTruncate } from "./format.ts";

/** The verdict of one body. */
export type ValidationResult =
  | { ok: true; envelope: Envelope; bytes: number }
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
  const bytes = typeof body === "string" ? new TextEncoder().encode(body).length : body.length;
  const result = safeParseEnvelope(body);
  return result.success
    ? { ok: true, envelope: result.envelope, bytes }
    : { ok: false, issues: result.issues, bytes };
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
  readonly #drop = byId("validator-drop", HTMLDivElement);
  readonly #file = byId("validator-file", HTMLInputElement);
  readonly #source = byId("validator-source", HTMLSpanElement);
  readonly #verdict = byId("validator-verdict", HTMLDivElement);
  readonly #verdictText = byId("validator-verdict-text", HTMLSpanElement);
  readonly #events = byId("validator-events", HTMLTableElement);
  readonly #eventsBody = byId("validator-events-body", HTMLTableSectionElement);
  readonly #issues = byId("validator-issues", HTMLTableElement);
  readonly #issuesBody = byId("validator-issues-body", HTMLTableSectionElement);
  /** The dropped file's exact bytes, until the text is edited. */
  #bytes: Uint8Array | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    this.#input.addEventListener("input", () => {
      this.#bytes = null;
      replaceChildren(this.#source, this.#input.value ? "pasted text" : "\u00a0");
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.validate(), 120);
    });
    this.#file.addEventListener("change", () => {
      const file = this.#file.files?.[0];
      if (file) void this.loadFile(file);
      this.#file.value = "";
    });
    byId("validator-sample", HTMLButtonElement).addEventListener("click", () => {
      this.#bytes = null;
      this.#input.value = sampleEnvelope();
      replaceChildren(this.#source, "sample built with the core's createBridge");
      this.validate();
    });
    byId("validator-clear", HTMLButtonElement).addEventListener("click", () => {
      this.#bytes = null;
      this.#input.value = "";
      replaceChildren(this.#source, "\u00a0");
      this.validate();
    });
    acceptDrops(this.#drop, (file) => void this.loadFile(file));
  }

  /** Loads a file's bytes as the body. */
  async loadFile(file: File): Promise<void> {
    const bytes = new Uint8Array(await file.arrayBuffer());
    this.#bytes = bytes;
    this.#input.value = new TextDecoder().decode(bytes);
    replaceChildren(this.#source, `${file.name} · ${formatBytes(bytes.length)} (exact bytes)`);
    this.validate();
  }

  /** Validates the current body and renders the verdict. */
  validate(): void {
    clearTimeout(this.#timer);
    this.render(validateBody(this.#bytes ?? this.#input.value));
  }

  /** Renders a verdict. */
  render(result: ValidationResult): void {
    if (result.ok === null) {
      this.#setVerdict("none", "Waiting for a body.");
      this.#events.hidden = true;
      this.#issues.hidden = true;
      return;
    }
    if (result.ok) {
      const n = result.envelope.events.length;
      this.#setVerdict(
        "ok",
        `Valid envelope: ${formatCount(n)} event${n === 1 ? "" : "s"}, ${formatBytes(result.bytes)}.`,
      );
      this.#issues.hidden = true;
      this.#events.hidden = false;
      const rows = result.envelope.events.map((event, index) => ({ event, index }));
      syncRows(
        this.#eventsBody,
        rows,
        (row) => String(row.index),
        () => h("tr"),
        (tr, { event, index }) => {
          const target = event.target ?? {};
          const what = target.mediaType
            ? mediaTypeName(target.mediaType)
            : target.digest
              ? "digest"
              : target.tag
                ? "tag"
                : "repository";
          replaceChildren(
            tr,
            h("td", { class: "num" }, String(index + 1)),
            h(
              "td",
              {},
              h("span", { class: `badge plain ${actionTone(event.action)}` }, event.action),
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
            h(
              "td",
              { class: "num" },
              typeof target.size === "number" ? formatBytes(target.size) : "—",
            ),
            h("td", { class: "mono", title: event.timestamp }, shortTimestamp(event.timestamp)),
          );
        },
      );
      return;
    }
    const n = result.issues.length;
    this.#setVerdict("bad", `Not a valid envelope: ${formatCount(n)} issue${n === 1 ? "" : "s"}.`);
    this.#events.hidden = true;
    this.#issues.hidden = false;
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
