// registry-relay/schema: the valibot schemas (hence Standard Schema) of the event model and of an
// endpoint's configuration, for users who validate with valibot. The main entry exports only the
// types inferred from them, so a user who never imports this pays nothing for valibot.

export * from "./endpoint/config-schema.ts";
export * from "./event/schema.ts";
