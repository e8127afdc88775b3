// The session settings of the replication connection. Both output plugins print column values
// with the server's output functions in the walsender's session, so these settings fix the text
// the value conversion reads: one date style, UTC, exact floats, hex bytea.
import { quoteLiteral } from "../sql/sql-identifier.js";

/**
 * GUCs set through the startup `options` parameter of the replication connection (and with SET
 * in any session that reads a slot through SQL, as the tests do).
 * - DateStyle ISO: dates 'YYYY-MM-DD', timestamps 'YYYY-MM-DD HH:MM:SS[.ffffff]' (' BC' suffix).
 * - TimeZone UTC: timestamptz prints with '+00', so normalising to 'Z' is a reformat; wal2json's
 *   commit timestamps use it too.
 * - IntervalStyle iso_8601: intervals as 'P1Y2M3DT4H5M6.7S', a standard partners can parse.
 * - extra_float_digits 3: float4/float8 print the shortest text that reads back exactly.
 * - bytea_output hex: '\x0aff'; wal2json strips the '\x' and would mangle the escape format.
 */
export const REPLICATION_SESSION_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  DateStyle: "ISO, YMD",
  TimeZone: "UTC",
  IntervalStyle: "iso_8601",
  extra_float_digits: "3",
  bytea_output: "hex",
});

/**
 * The settings as a libpq/pg startup `options` value: '-c DateStyle=ISO,\ YMD -c TimeZone=UTC …'.
 * The server splits `options` on unescaped whitespace, so spaces and backslashes are escaped.
 */
export function startupOptions(settings: Readonly<Record<string, string>> = REPLICATION_SESSION_SETTINGS): string {
  return Object.entries(settings)
    .map(([name, value]) => `-c ${escapeOption(name)}=${escapeOption(value)}`)
    .join(" ");
}

/** The settings as SET statements, for a session that reads a slot with pg_logical_slot_get_changes(). */
export function sessionSettingsSql(
  settings: Readonly<Record<string, string>> = REPLICATION_SESSION_SETTINGS,
): string[] {
  return Object.entries(settings).map(([name, value]) => `set ${name} = ${quoteLiteral(value)}`);
}

function escapeOption(text: string): string {
  return text.replace(/[\\\s]/g, (c) => `\\${c}`);
}
