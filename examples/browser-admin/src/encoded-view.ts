// What the relay sends for one event to an endpoint of each output `format`: the CloudEvent
// (`cloudevents`) and the CDEvent (`cdevents`), made in the page by the core's own encoders. For
// an event the relay does not send as a CDEvent, the reason (cdEventTypeOf's rule).
import type { Event } from "registry-relay";
import { CDEventTypes, toCDEvent, toCloudEvent } from "registry-relay/formats";
import { byId, setText } from "./dom.ts";

/**
 * Why `toCDEvent` skips an event, by `cdEventTypeOf`'s rule: no CDEvents type for the action, no
 * digest (a purl's version), or a blob.
 *
 * @example
 * ```ts
 * import { cdEventSkipReason } from "./encoded-view.ts";
 * cdEventSkipReason(tagDelete); // "it names no digest (a tag or repository delete): …"
 * ```
 */
export function cdEventSkipReason(event: Event): string {
  const { action, target } = event;
  if (!Object.hasOwn(CDEventTypes, action)) {
    return action === "mount"
      ? "a mount is a blob's, and CDEvents are about artifacts"
      : `CDEvents has no type for ${action.includes(".") ? "another registry's event" : "the action"} ${action}`;
  }
  if (!target.digest) {
    return "it names no digest (a tag or repository delete): a package URL's version is the digest";
  }
  return `it is a blob's: ${target.mediaType} is not a manifest media type`;
}

/**
 * The CloudEvent (JSON) and the CDEvent (its `ce-*` headers, a blank line, its JSON body) of an
 * event, or the reason it is not sent as a CDEvent.
 *
 * @example
 * ```ts
 * import { encodedTexts } from "./encoded-view.ts";
 * const { cloudEvent, cdEvent, cdEventSent } = encodedTexts(event);
 * ```
 */
export function encodedTexts(event: Event): {
  cloudEvent: string;
  cdEvent: string;
  cdEventSent: boolean;
} {
  const cloudEvent = JSON.stringify(toCloudEvent(event), null, 2);
  const message = toCDEvent(event);
  if (!message) {
    return {
      cloudEvent,
      cdEvent: `Not sent as a CDEvent: ${cdEventSkipReason(event)}.`,
      cdEventSent: false,
    };
  }
  const head = Object.entries(message.headers).map(([name, value]) => `${name}: ${value}`);
  const body = JSON.stringify(JSON.parse(message.body), null, 2);
  return { cloudEvent, cdEvent: `${head.join("\n")}\n\n${body}`, cdEventSent: true };
}

/**
 * The "sent by the relay" pane of the validator.
 *
 * @example
 * ```ts
 * import { EncodedView } from "./encoded-view.ts";
 * new EncodedView().show(event, "event 1: push team/app:v1");
 * ```
 */
export class EncodedView {
  readonly #pane = byId("validator-encoded", HTMLDivElement);
  readonly #note = byId("validator-encoded-note", HTMLSpanElement);
  readonly #cloudEvent = byId("validator-cloudevent", HTMLPreElement);
  readonly #cdEvent = byId("validator-cdevent", HTMLPreElement);

  /** Shows an event's encodings (`label` names it), or hides the pane. */
  show(event: Event | undefined, label = ""): void {
    this.#pane.hidden = !event;
    if (!event) return;
    const texts = encodedTexts(event);
    setText(this.#note, label);
    setText(this.#cloudEvent, texts.cloudEvent);
    setText(this.#cdEvent, texts.cdEvent);
    this.#cdEvent.classList.toggle("skipped", !texts.cdEventSent);
  }
}
