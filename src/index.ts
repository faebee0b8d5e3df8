// registry-relay: the runtime-agnostic core. Re-exports only; one concept per module.
export * from "./bridge.ts";
export * from "./broadcaster.ts";
export * from "./config.ts";
export * from "./constants.ts";
export * from "./endpoint.ts";
export * from "./envelope.ts";
export * from "./http.ts";
export * from "./ids.ts";
export * from "./ignored.ts";
export * from "./metrics.ts";
export * from "./queue.ts";
export * from "./retry-policy.ts";
export * from "./retrying.ts";
export * from "./schema.ts";
export * from "./sink.ts";
export * from "./strategies.ts";
export * from "./webhooks.ts";
