// The shapes of names configuration may use: SQL identifiers, connector and mapping names, topics.

/** Schema, slot and publication names: plain lower-case, so they never need quoting (START_REPLICATION cannot quote). */
export const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
export const SQL_IDENTIFIER_TEXT = "a lower-case name of letters, digits and _ (at most 63, not starting with a digit)";

/** Connector and mapping names end up in metric labels, URLs (/inbound/<connector>) and ledger rows. */
export const OBJECT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$/;
export const OBJECT_NAME_TEXT = "a name of letters, digits, _ and - (at most 63)";

/** Application event topics: `permit.approved`. */
export const TOPIC = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,199}$/;
export const TOPIC_TEXT = "a topic of letters, digits and . _ - : (e.g. permit.approved)";
