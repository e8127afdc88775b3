// Picks the decoder, plugin options and session settings for the configured output plugin.
import type { ChangeDecoder, TableRef } from "./change.js";
import { PgoutputDecoder, pgoutputStartOptions } from "./pgoutput-decoder.js";
import { REPLICATION_SESSION_SETTINGS } from "./session-settings.js";
import { WAL2JSON_START_OPTIONS, Wal2JsonDecoder } from "./wal2json-decoder.js";

export interface DecoderSetup {
  readonly decoder: ChangeDecoder;
  readonly pluginOptions: Readonly<Record<string, string>>;
  readonly sessionSettings: Readonly<Record<string, string>>;
}

export function decoderSetup(
  plugin: "pgoutput" | "wal2json",
  publication: string,
  tables: readonly TableRef[],
): DecoderSetup {
  if (plugin === "pgoutput") {
    return {
      decoder: new PgoutputDecoder(),
      pluginOptions: pgoutputStartOptions(publication),
      sessionSettings: REPLICATION_SESSION_SETTINGS,
    };
  }
  // wal2json has no publications: the mapped tables are named in its add-tables filter.
  const addTables = tables.map((t) => `${escapeWal2JsonName(t.schema)}.${escapeWal2JsonName(t.name)}`).join(",");
  return {
    decoder: new Wal2JsonDecoder(),
    pluginOptions: addTables ? { ...WAL2JSON_START_OPTIONS, "add-tables": addTables } : WAL2JSON_START_OPTIONS,
    sessionSettings: REPLICATION_SESSION_SETTINGS,
  };
}

/** wal2json splits add-tables on ',' and '.', with backslash as its escape character. */
function escapeWal2JsonName(name: string): string {
  return name.replace(/[\\,.]/g, (c) => `\\${c}`);
}
