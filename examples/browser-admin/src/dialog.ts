// Confirmation for actions that change the relay: a modal <dialog> (focus trapped, Esc cancels)
// that says exactly what will happen, optionally asking for a short text such as a pause reason.
import { byId, replaceChildren } from "./dom.ts";

/** What {@link confirmAction} shows. */
export interface ConfirmOptions {
  title: string;
  message: string;
  confirmLabel: string;
  /** `danger` colours the confirm button red (destructive actions). */
  tone?: "danger" | "normal";
  /** Ask for a text (e.g. a pause reason); the answer is the trimmed text. */
  input?: { label: string; placeholder?: string; maxLength?: number };
}

/**
 * Shows the confirmation dialog; resolves with `null` when cancelled, else with the entered text
 * (`""` without an input).
 *
 * @example
 * ```ts
 * import { confirmAction } from "./dialog.ts";
 * const answer = await confirmAction({ title: "Purge?", message: "…", confirmLabel: "Purge", tone: "danger" });
 * if (answer !== null) await client.purge(name);
 * ```
 */
export function confirmAction(options: ConfirmOptions): Promise<string | null> {
  const dialog = byId("confirm-dialog", HTMLDialogElement);
  const title = byId("confirm-title", HTMLHeadingElement);
  const message = byId("confirm-message", HTMLParagraphElement);
  const field = byId("confirm-field", HTMLLabelElement);
  const fieldLabel = byId("confirm-field-label", HTMLSpanElement);
  const input = byId("confirm-input", HTMLInputElement);
  const ok = byId("confirm-ok", HTMLButtonElement);
  const cancel = byId("confirm-cancel", HTMLButtonElement);

  replaceChildren(title, options.title);
  replaceChildren(message, options.message);
  replaceChildren(ok, options.confirmLabel);
  ok.className = options.tone === "danger" ? "button danger" : "button primary";
  field.hidden = options.input === undefined;
  input.value = "";
  if (options.input) {
    replaceChildren(fieldLabel, options.input.label);
    input.placeholder = options.input.placeholder ?? "";
    input.maxLength = options.input.maxLength ?? 200;
  }

  return new Promise((resolve) => {
    const finish = (answer: string | null) => {
      ok.removeEventListener("click", onOk);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      input.removeEventListener("keydown", onKey);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onOk = () => finish(options.input ? input.value.trim() : "");
    const onCancel = (event: Event) => {
      event.preventDefault();
      finish(null);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Enter") {
        event.preventDefault();
        onOk();
      }
    };
    ok.addEventListener("click", onOk);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    input.addEventListener("keydown", onKey);
    dialog.showModal();
    (options.input ? input : cancel).focus();
  });
}
