// Which record formats each adapter can carry: REST bodies are JSON, SOAP calls take the operation's arguments.
import type { AdapterKind, RecordFormat } from "./types.js";

export const FORMATS_BY_ADAPTER: Readonly<Record<AdapterKind, readonly RecordFormat[]>> = {
  sftp: ["fixed-width", "csv", "json"],
  file: ["fixed-width", "csv", "json"],
  soap: ["soap"],
  rest: ["json"],
};
