// The signature checker: the core's verifyWebhook on a secret, headers and body, in the page.
// The secret is read from its field when checking and never stored or sent anywhere.
import { signWebhook, verifyWebhook, WebhookVerificationError } from "registry-relay";
import { uuidv4 } from "registry-relay/bridge";
import { byId, h, replaceChildren } from "./dom.ts";
import { formatBytes, formatDuration, formatInstant } from "./format.ts";
import { parseHeaderText } from "./header-text.ts";
import { acceptDrops, sampleEnvelope } from "./validator-view.ts";

/** The outcome of one check. */
export type SignatureResult =
  | { ok: true; id: string; timestamp: number; note: string }
  | { ok: false; reason: string; message: string; note: string };

/**
 * Checks a signature with the core's `verifyWebhook`; input problems become results, not throws.
 *
 * @example
 * ```ts
 * import { checkSignature } from "./signature-view.ts";
 * const result = await checkSignature({ secret, headerText, body, toleranceSeconds: 300 });
 * ```
 */
export async function checkSignature(input: {
  secret: string;
  headerText: string;
  body: string | Uint8Array;
  toleranceSeconds: number;
}): Promise<SignatureResult> {
  let headers: Record<string, string>;
  try {
    headers = parseHeaderText(input.headerText);
  } catch (error) {
    return { ok: false, reason: "headers", message: (error as Error).message, note: "" };
  }
  const bodyBytes =
    typeof input.body === "string" ? new TextEncoder().encode(input.body) : input.body;
  const declared = headers["content-length"];
  const note =
    declared !== undefined && Number(declared) !== bodyBytes.length
      ? `Content-Length says ${declared} bytes but the body has ${bodyBytes.length}: the body is not byte-exact (a trailing newline?).`
      : "";
  if (input.secret.trim() === "") {
    return {
      ok: false,
      reason: "invalid-secret",
      message: "enter the endpoint's signing secret",
      note,
    };
  }
  try {
    const verified = await verifyWebhook({
      secret: input.secret.trim(),
      headers,
      body: bodyBytes,
      toleranceSeconds: input.toleranceSeconds,
    });
    return { ok: true, id: verified.id, timestamp: verified.timestamp, note };
  } catch (error) {
    if (error instanceof WebhookVerificationError) {
      return { ok: false, reason: error.reason, message: error.message, note };
    }
    return {
      ok: false,
      reason: "error",
      message: String((error as Error)?.message ?? error),
      note,
    };
  }
}

/**
 * The signature panel of the page shell.
 *
 * @example
 * ```ts
 * import { SignatureView } from "./signature-view.ts";
 * new SignatureView();
 * ```
 */
export class SignatureView {
  readonly #form = byId("signature-form", HTMLFormElement);
  readonly #secret = byId("sig-secret", HTMLInputElement);
  readonly #tolerance = byId("sig-tolerance", HTMLInputElement);
  readonly #ignoreTime = byId("sig-ignore-time", HTMLInputElement);
  readonly #headers = byId("sig-headers", HTMLTextAreaElement);
  readonly #body = byId("sig-body", HTMLTextAreaElement);
  readonly #bodySource = byId("sig-body-source", HTMLSpanElement);
  readonly #verdict = byId("sig-verdict", HTMLDivElement);
  readonly #verdictText = byId("sig-verdict-text", HTMLSpanElement);
  #bytes: Uint8Array | null = null;
  #checks = 0;

  constructor() {
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.check();
    });
    this.#body.addEventListener("input", () => {
      this.#bytes = null;
      replaceChildren(this.#bodySource, "");
    });
    this.#ignoreTime.addEventListener("change", () => {
      this.#tolerance.disabled = this.#ignoreTime.checked;
    });
    byId("sig-example", HTMLButtonElement).addEventListener("click", () => void this.fillExample());
    acceptDrops(this.#form, (file) => void this.#loadBody(file));
  }

  /** Verifies the current fields and shows the verdict. */
  async check(): Promise<void> {
    const run = ++this.#checks;
    const tolerance = this.#ignoreTime.checked
      ? Number.POSITIVE_INFINITY
      : Number(this.#tolerance.value || "300");
    if (!Number.isFinite(tolerance) && !this.#ignoreTime.checked) {
      this.#show(false, "Tolerance must be a number of seconds.");
      return;
    }
    const result = await checkSignature({
      secret: this.#secret.value,
      headerText: this.#headers.value,
      body: this.#bytes ?? this.#body.value,
      toleranceSeconds: tolerance,
    });
    if (run !== this.#checks) return;
    // A counter of finished checks: lets scripts (and the browser test) wait for this answer.
    this.#verdict.dataset.checks = String(run);
    if (result.ok) {
      const age = Date.now() / 1000 - result.timestamp;
      const when = `${formatInstant(result.timestamp * 1000)} (${age >= 0 ? `${formatDuration(age * 1000)} ago` : `in ${formatDuration(-age * 1000)}`})`;
      this.#show(true, `Signature valid · webhook-id ${result.id} · signed ${when}`, result.note);
    } else {
      this.#show(false, result.message, result.note, result.reason);
    }
  }

  /** Fills the form with a fresh secret, a sample body and its signed headers. */
  async fillExample(): Promise<void> {
    const key = crypto.getRandomValues(new Uint8Array(24));
    const secret = `whsec_${btoa(String.fromCharCode(...key))}`;
    const body = sampleEnvelope();
    const headers = await signWebhook({
      secret,
      id: `msg_${uuidv4().replaceAll("-", "")}`,
      timestamp: new Date(),
      body,
    });
    this.#secret.value = secret;
    this.#headers.value = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}`)
      .join("\n");
    this.#body.value = body;
    this.#bytes = null;
    replaceChildren(this.#bodySource, "(sample, signed just now with a random secret)");
    await this.check();
  }

  async #loadBody(file: File): Promise<void> {
    const bytes = new Uint8Array(await file.arrayBuffer());
    this.#bytes = bytes;
    this.#body.value = new TextDecoder().decode(bytes);
    replaceChildren(this.#bodySource, `${file.name} · ${formatBytes(bytes.length)} (exact bytes)`);
  }

  #show(ok: boolean, text: string, note = "", code = ""): void {
    this.#verdict.className = `verdict ${ok ? "ok" : "bad"}`;
    replaceChildren(
      this.#verdictText,
      code ? h("code", { class: "reason-code" }, code) : null,
      code ? " " : null,
      note ? `${text} — ${note}` : text,
    );
  }
}
