// Short-lived notices about the outcome of an action, in a fixed corner (no layout shift) and an
// aria-live region (screen readers hear them).
import { byId, h } from "./dom.ts";

const visibleMs = 4500;
const maxToasts = 4;

/**
 * Shows a notice; `bad` ones stay three times longer (or until dismissed).
 *
 * @example
 * ```ts
 * import { toast } from "./toast.ts";
 * toast("ok", "Replayed 3 dead letters of ci-trigger.");
 * ```
 */
export function toast(tone: "ok" | "bad" | "info", message: string): void {
  const region = byId("toasts", HTMLDivElement);
  const close = h("button", { class: "toast-close", type: "button", "aria-label": "Dismiss" }, "×");
  const item = h(
    "div",
    { class: `toast ${tone}`, role: tone === "bad" ? "alert" : "status" },
    h("span", { class: "toast-text" }, message),
    close,
  );
  close.addEventListener("click", () => item.remove());
  region.append(item);
  while (region.children.length > maxToasts) region.firstElementChild?.remove();
  setTimeout(() => item.remove(), tone === "bad" ? visibleMs * 3 : visibleMs);
}
