// The output formats by the names configurations give them (`format`), for a relay or a program
// that reads endpoint configurations: importing this table bundles every encoder.
import { distributionFormat, type EndpointFormat, type OutputFormat } from "../event/output.ts";
import { cdEventsFormat } from "./cdevents.ts";
import { cloudEventsFormat } from "./cloudevents.ts";

/**
 * Every output format by its {@link EndpointFormat} name: what turns a configuration's `format`
 * into the object `Endpoint`, `HttpSink` and `routesTo` take.
 *
 * @example
 * ```ts
 * import { Endpoint } from "registry-relay";
 * import { parseEndpointConfig } from "registry-relay/config";
 * import { outputFormats } from "registry-relay/formats";
 * const config = parseEndpointConfig({ url: "https://hooks.example.com/ce", format: "cloudevents" });
 * const endpoint = new Endpoint("ce", "", { ...config, format: outputFormats[config.format] });
 * ```
 */
export const outputFormats: Readonly<Record<EndpointFormat, OutputFormat>> = {
  distribution: distributionFormat,
  cloudevents: cloudEventsFormat,
  cdevents: cdEventsFormat,
};
