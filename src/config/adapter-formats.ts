// Which record formats each adapter can carry: REST bodies are JSON, SOAP calls take the operation's arguments.
import type { AdapterKind, RecordFormat } from "./types.js";

export const FORMATS_BY_ADAPTER: Readonly<Record<AdapterKind, readonly RecordFormat[]>> = {
  sftp: ["fixed-width", "csv", "json"],
  ftp: ["fixed-width", "csv", "json"],
  file: ["fixed-width", "csv", "json"],
  soap: ["soap"],
  rest: ["json"],
};

/**
 * What a connector's own `format:` may say: a REST connector may carry CSV or fixed-width as one
 * body per batch, and a SOAP connector as one call per batch (the body in `soap.attachment`).
 */
export const CONNECTOR_FORMATS_BY_ADAPTER: Readonly<Record<AdapterKind, readonly RecordFormat[]>> = {
  ...FORMATS_BY_ADAPTER,
  soap: ["soap", "csv", "fixed-width"],
  rest: ["json", "csv", "fixed-width"],
};
