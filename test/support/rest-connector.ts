// The `gis` REST connector the capture and hostile-input tests deliver through, as connector YAML.

export interface RestConnectorTiming {
  /** The `batch:` flow mapping, e.g. `{ maxRecords: 10, maxWait: 20ms }`. */
  readonly batch: string;
  /** The `retry:` flow mapping. */
  readonly retry: string;
}

const PROMPT_RETRIES: RestConnectorTiming = {
  batch: "{ maxRecords: 10, maxWait: 20ms }",
  retry: "{ maxAttempts: 2, initialDelay: 100ms, maxDelay: 200ms }",
};

export function gisRestConnector(url: string, timing: RestConnectorTiming = PROMPT_RETRIES): string {
  return [
    "name: gis",
    "adapter: rest",
    "rest:",
    `  url: ${url}/api`,
    "  method: POST",
    "  timeout: 5s",
    `batch: ${timing.batch}`,
    `retry: ${timing.retry}`,
    "",
  ].join("\n");
}
