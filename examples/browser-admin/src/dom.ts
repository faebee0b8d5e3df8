// DOM building without HTML strings: every value reaches the page through `textContent` or an
// attribute, so nothing the relay or a pasted body says can become markup.

/** A child of {@link h}: a node, text (rendered as text, never parsed), or nothing. */
export type Child = Node | string | number | null | undefined | false;

/** Attributes of {@link h}: `class`, `title`, `aria-*`, `data-*`... (false/null/undefined skip). */
export type Attrs = Record<string, string | number | boolean | null | undefined>;

/**
 * Creates an element with attributes and children. Strings become text nodes.
 *
 * @example
 * ```ts
 * import { h } from "./dom.ts";
 * const cell = h("td", { class: "num" }, String(depth));
 * ```
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

/**
 * Appends children (strings as text nodes) to a parent.
 *
 * @example
 * ```ts
 * import { append } from "./dom.ts";
 * append(list, "3 events", h("b", {}, "!"));
 * ```
 */
export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replaces all children of a parent.
 *
 * @example
 * ```ts
 * import { replaceChildren } from "./dom.ts";
 * replaceChildren(panel, h("p", {}, "No dead letters."));
 * ```
 */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/**
 * The element with this id, typed; throws when the page shell lacks it (a build mistake).
 *
 * @example
 * ```ts
 * import { byId } from "./dom.ts";
 * const form = byId("connect", HTMLFormElement);
 * ```
 */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no #${id} (${type.name})`);
  return element;
}

/**
 * Sets text only when it changed, so polling does not churn the DOM (or selections in it).
 *
 * @example
 * ```ts
 * import { setText } from "./dom.ts";
 * setText(depthCell, "12");
 * ```
 */
export function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

/**
 * Sets (or removes, for null) an attribute only when it changed.
 *
 * @example
 * ```ts
 * import { setAttr } from "./dom.ts";
 * setAttr(cell, "title", error ?? null);
 * ```
 */
export function setAttr(element: Element, name: string, value: string | null): void {
  if (value === null) {
    if (element.hasAttribute(name)) element.removeAttribute(name);
  } else if (element.getAttribute(name) !== value) {
    element.setAttribute(name, value);
  }
}

/**
 * Keeps a container's rows in step with a list, keyed: existing rows are updated in place (focus,
 * checkbox state and text selection survive a refresh), new ones created, missing ones removed,
 * and the order follows the list.
 *
 * @example
 * ```ts
 * import { syncRows } from "./dom.ts";
 * syncRows(tbody, items, (item) => item.id, (item) => makeRow(item), (row, item) => fill(row, item));
 * ```
 */
export function syncRows<T, R extends HTMLElement>(
  container: HTMLElement,
  items: readonly T[],
  keyOf: (item: T) => string,
  create: (item: T) => R,
  update: (row: R, item: T) => void,
): void {
  const existing = new Map<string, R>();
  for (const child of Array.from(container.children)) {
    const key = (child as HTMLElement).dataset.key;
    if (key === undefined) child.remove();
    else existing.set(key, child as R);
  }
  let previous: Element | null = null;
  for (const item of items) {
    const key = keyOf(item);
    let row = existing.get(key);
    if (row) existing.delete(key);
    else {
      row = create(item);
      row.dataset.key = key;
    }
    update(row, item);
    const expected: Element | null = previous
      ? previous.nextElementSibling
      : container.firstElementChild;
    if (expected !== row) container.insertBefore(row, expected);
    previous = row;
  }
  for (const row of existing.values()) row.remove();
}
