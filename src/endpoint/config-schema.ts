// The endpoint configuration as a valibot schema (so also a Standard Schema), for users who
// validate with valibot; it wraps config.ts's own checks, so both always agree.
import * as v from "valibot";
import { checkConfig, type EndpointConfig } from "./config.ts";

/**
 * The schema of one endpoint's configuration (valibot, hence Standard Schema): unknown keys are
 * rejected, the output is normalised (defaults applied, durations in ms, headers as lists, both
 * ignore lists merged). The output is itself valid input (parsing is idempotent).
 *
 * @example
 * ```ts
 * import * as v from "valibot";
 * import { EndpointConfigSchema } from "registry-relay/schema";
 * const result = v.safeParse(EndpointConfigSchema, { url: "https://hooks.example.com/in" });
 * ```
 */
export const EndpointConfigSchema: v.SchemaWithPipe<
  readonly [v.UnknownSchema, v.RawTransformAction<unknown, EndpointConfig>]
> = /* @__PURE__ */ v.pipe(
  /* @__PURE__ */ v.unknown(),
  /* @__PURE__ */ v.rawTransform<unknown, EndpointConfig>(({ dataset, addIssue, NEVER }) => {
    const { config, issues } = checkConfig(dataset.value);
    for (const { path, message } of issues) {
      const items = path.map((key) => ({
        type: "unknown" as const,
        origin: "value" as const,
        input: undefined,
        key,
        value: undefined,
      }));
      addIssue({ message, ...(items.length > 0 && { path: items as [(typeof items)[0]] }) });
    }
    return config ?? NEVER;
  }),
);
