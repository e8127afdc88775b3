// The mapping engine's public API: compile a mapping once, then render records as the exact bytes a partner receives.
export { registerEbcdicCodecs } from "./ebcdic-codecs.js";
export { MappingConfigError, MappingError } from "./errors.js";
export type { CompiledMapping, CompileOptions, CompileResult, MappedChange } from "./mapping.js";
export { compileMapping, mappingKeyColumns } from "./mapping.js";
export type { BatchContext, RenderContext } from "./pseudo-columns.js";
export { BATCH_PSEUDO_COLUMNS, RECORD_PSEUDO_COLUMNS } from "./pseudo-columns.js";
export { compileStrftime, formatStrftime, StrftimeError } from "./strftime.js";
export type { CompiledTarget } from "./target.js";
export { textCodec, UnknownEncodingError, UnmappableCharacterError } from "./text-codec.js";
export { TimezoneError } from "./time-zone.js";
