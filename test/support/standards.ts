// The CloudEvents 1.0 and CDEvents 0.5.1 specs' own JSON schemas as validators (ajv), for the
// Node-side tests: test/node/formats-schemas.test.ts and the relay's end-to-end format test.
// Node only: ajv compiles validators with `new Function`, which workerd forbids.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { standardsDir } from "../fixtures/paths.mjs";

export const cdeventsDir = join(standardsDir, "cdevents/v0.5.1");
export const readJson = (path: string): unknown => JSON.parse(readFileSync(path, "utf8"));
export const jsonFiles = (dir: string) => readdirSync(dir).filter((name) => name.endsWith(".json"));

/** Every error of a validator as `path message`, or [] when valid. */
export type Check = (value: unknown) => string[];
function checker(validate: import("ajv").ValidateFunction): Check {
  return (value) => {
    if (validate(value)) return [];
    return (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
  };
}

// CloudEvents 1.0: draft-07 (ajv's default dialect). Its attributes use union types
// (["string", "null"]) that ajv's strict mode would only log about.
const ceAjv = new Ajv({ allErrors: true, allowUnionTypes: true });
addFormats(ceAjv);
/** Validates one CloudEvent (structured mode, parsed) against the spec's schema. */
export const checkCloudEvent = checker(
  ceAjv.compile(readJson(join(standardsDir, "cloudevents/schema/cloudevents.json")) as object),
);

// CDEvents 0.5.1: Draft 2020-12; `links/embeddedlinksarray` resolves against the event schema's
// `$id`, so the links schemas are loaded under their own `$id`s first.
const cdAjv = new Ajv2020({ allErrors: true });
addFormats(cdAjv);
for (const name of jsonFiles(join(cdeventsDir, "schemas/links")))
  cdAjv.addSchema(readJson(join(cdeventsDir, "schemas/links", name)) as object);
/** The 0.5.1 artifact schemas by their event type. */
export const cdSchemas = new Map<string, Check>();
for (const name of jsonFiles(join(cdeventsDir, "schemas"))) {
  const schema = readJson(join(cdeventsDir, "schemas", name)) as {
    properties: { context: { properties: { type: { enum: string[] } } } };
  };
  const [type] = schema.properties.context.properties.type.enum;
  cdSchemas.set(type ?? name, checker(cdAjv.compile(schema)));
}
/** Validates a CDEvent against the schema of its own `context.type`. */
export function checkCDEvent(cdevent: unknown): string[] {
  const type = (cdevent as { context?: { type?: string } }).context?.type ?? "";
  const check = cdSchemas.get(type);
  return check ? check(cdevent) : [`no 0.5.1 schema for type ${JSON.stringify(type)}`];
}
