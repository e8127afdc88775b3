// The configuration room's public API: load and validate ess.yaml, connectors and mappings; redact secrets.
export {
  ConfigError,
  type ConfigErrorDetails,
  ConfigErrors,
  displayFileName,
  formatFieldPath,
} from "./config-error.js";
export { DEFAULTS } from "./defaults.js";
export { parseDuration } from "./duration.js";
export {
  type ConfigDocument,
  type ConfigDocuments,
  documentFromObject,
  type LoadOptions,
  loadConfig,
  loadConfigFromDocuments,
} from "./load-config.js";
export type { AliasUse, CanonicalFile, ExplainSink } from "./recipe-notes.js";
export { isValidTimezone, parseSchedule } from "./schedule.js";
export { redactSecrets, redactUrl, registerSecret } from "./secrets.js";
export { parseTableRef } from "./table-ref.js";
export type * from "./types.js";
