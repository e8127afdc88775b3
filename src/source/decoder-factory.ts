// Picks the decoder, plugin options and session settings for the configured output plugin.
import type { ChangeDecoder, TableRef } from "../change/change.js";
import { PgoutputDecoder, pgoutputStartOptions, STREAMING_SERVER_VERSION } from "./pgoutput-decoder.js";
import { REPLICATION_SESSION_SETTINGS } from "./session-settings.js";
import { Wal2JsonDecoder, wal2jsonStartOptions } from "./wal2json-decoder.js";

export interface DecoderSetup {
  readonly decoder: ChangeDecoder;
  readonly pluginOptions: Readonly<Record<string, string>>;
  readonly sessionSettings: Readonly<Record<string, string>>;
  /** The server may send transactions still in progress, in segments (pgoutput protocol 2). */
  readonly streaming: boolean;
}

export function decoderSetup(
  plugin: "pgoutput" | "wal2json",
  publication: string,
  tables: readonly TableRef[],
  /** The source's server_version_num: from 14 on, pgoutput streams large transactions in progress. */
  serverVersionNum = 0,
): DecoderSetup {
  if (plugin === "pgoutput") {
    return {
      decoder: new PgoutputDecoder(),
      pluginOptions: pgoutputStartOptions(publication, serverVersionNum),
      sessionSettings: REPLICATION_SESSION_SETTINGS,
      streaming: serverVersionNum >= STREAMING_SERVER_VERSION,
    };
  }
  // wal2json has no publications: the mapped tables are its add-tables filter, and without one
  // it would decode every table, the ledger's own included.
  return {
    decoder: new Wal2JsonDecoder(),
    pluginOptions: wal2jsonStartOptions(tables),
    sessionSettings: REPLICATION_SESSION_SETTINGS,
    streaming: false,
  };
}
