// A change the ledger refuses to store as captured (a value its types, an index or a constraint
// cannot take): what it becomes instead, so that it is kept as a dead letter and capture goes on.
import { formatLsn } from "../change/lsn.js";
import type { FeedRow } from "../ledger/feed-writer.js";
import { storableText } from "../ledger/storable-text.js";
import { classifyPgError, messageWithoutValues } from "../sql/pg-error.js";
import type { CapturedChange } from "./feed-rows.js";

/** Of the key, what a dead letter repeats: enough to find the row, never a whole document. */
const KEY_TEXT_LIMIT = 200;

export interface Refusal {
  /** Where the change sits, without any of its values: for logs and the audit trail. */
  readonly change: string;
  readonly table: string | null;
  readonly topic: string | null;
  readonly code: string | undefined;
  /** The server's words without the input it quotes. */
  readonly cause: string;
  /** The dead letters' reason: the change, its key and the cause. */
  readonly reason: string;
}

export function refusalOf(feed: FeedRow, error: unknown): Refusal {
  const { code } = classifyPgError(error);
  const message = error instanceof Error ? error.message : String(error);
  const cause = `${code ? `SQLSTATE ${code}: ` : ""}${messageWithoutValues(message)}`;
  const change = `${formatLsn(feed.commitLsn)}/${feed.ordinal}`;
  const table = feed.tableName === null ? null : `${feed.tableSchema ?? "public"}.${feed.tableName}`;
  const what = table !== null ? `table ${table}` : `topic ${feed.topic ?? "(none)"}`;
  const keyText = feed.keyJson.length > KEY_TEXT_LIMIT ? `${feed.keyJson.slice(0, KEY_TEXT_LIMIT)}…` : feed.keyJson;
  const reason = storableText(
    `the ledger refused change ${change} (${what}, key ${keyText}) as captured, so it was not stored: ${cause}`,
  );
  return { change, table, topic: feed.topic, code, cause, reason };
}

/**
 * The change as the feed keeps it instead: its identity and where it came from, with the refusal
 * in place of its values, which are exactly what could not be stored. Its deliveries are planned
 * from the row in memory (matching and ordering key as usual), but as dead letters.
 */
export function placeholderFor(change: CapturedChange, refusal: Refusal): CapturedChange {
  return {
    ...change,
    refused: refusal.reason,
    feed: {
      ...change.feed,
      keyJson: "null",
      beforeJson: "null",
      afterJson: JSON.stringify({ refused: refusal.reason }),
    },
  };
}
