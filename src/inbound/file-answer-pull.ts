// Pulls a partner's answer files: reads each, applies its answers in one ledger transaction that
// also records the file's name and checksum, then moves it to done/. A file read again after a
// crash (applied, not yet moved) is recognised by its checksum and only moved: nothing twice.
import { createHash } from "node:crypto";
import type pg from "pg";
import type { AnswerFileStore } from "../adapters/answer-files.js";
import type { AnswerFilePull, AnswerStatus, AnswerTable } from "../config/types.js";
import { faultPoint } from "../fault-points.js";
import {
  type AnswerResult,
  applyAnswerInTransaction,
  storableAnswer,
  storeUnreadableAnswer,
} from "../ledger/inbound.js";
import { recordPulledFile, setPulledFileUnmatched } from "../ledger/pulled-files.js";
import { withPooledClient } from "../ledger/queryable.js";
import { parseAnswerFile } from "../mapping/answer-file.js";
import type { Logger } from "../ops/logger.js";
import type { EssMetrics } from "../ops/metrics.js";
import { writeAnswerRow } from "./answer-table.js";

export interface AnswerPullOptions {
  readonly connector: string;
  readonly pull: AnswerFilePull;
  readonly answers?: AnswerTable;
  readonly store: AnswerFileStore;
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly logger: Logger;
  readonly metrics?: EssMetrics;
}

export interface FilePullReport {
  readonly name: string;
  readonly checksum: string;
  /** False: this file was applied before (a crash before the move); it was only moved now. */
  readonly applied: boolean;
  readonly confirmed: number;
  readonly rejected: number;
  readonly unmatched: number;
  readonly unreadable: number;
  readonly movedTo: string;
}

export class FileAnswerPull {
  constructor(private readonly options: AnswerPullOptions) {}

  /**
   * One look at the directory: every matching file is applied and moved, in name order. A file
   * that cannot be applied (an application table refusing its answers) stays where it is for the
   * next round, logged with its name and reason, and the files after it go on.
   */
  async pullOnce(): Promise<FilePullReport[]> {
    const reports: FilePullReport[] = [];
    const { connector, logger } = this.options;
    for (const name of await this.options.store.list()) {
      try {
        reports.push(await this.pullFile(name));
      } catch (error) {
        logger.error(
          { connector, file: name, err: error },
          "answer file cannot be applied; trying it again next round",
        );
      }
    }
    return reports;
  }

  private async pullFile(name: string): Promise<FilePullReport> {
    const { connector, pull, store, schema, logger } = this.options;
    const bytes = await store.read(name);
    const checksum = createHash("sha256").update(bytes).digest("hex");
    const parsed = parseAnswerFile(bytes, pull.layout);
    faultPoint("answer-file-read-before-apply");
    const via = `file:${name}`;
    const counts = { confirmed: 0, rejected: 0, unmatched: 0, duplicate: 0 };
    const applied = await withPooledClient(this.options.pool, async (client) => {
      await client.query("begin");
      try {
        const fresh = await recordPulledFile(client, schema, {
          connector,
          name,
          checksum,
          answers: parsed.answers.length,
          unmatched: 0,
        });
        if (fresh) {
          for (const answer of parsed.answers) {
            const partnerAnswer = storableAnswer({
              connector,
              correlation: answer.correlationId,
              status: answer.status as AnswerStatus,
              reference: answer.reference,
              message: answer.message,
              body: { file: name, line: answer.line, ...answer.fields },
              via,
            });
            const result = await applyAnswerInTransaction(client, schema, partnerAnswer);
            if (this.options.answers) await writeAnswerRow(client, this.options.answers, partnerAnswer, result);
            this.count(counts, result);
          }
          for (const line of parsed.unreadable) {
            await storeUnreadableAnswer(
              client,
              schema,
              connector,
              { file: name, line: line.line, text: line.text },
              `${name} line ${line.line}: ${line.reason}`,
              via,
            );
          }
          await setPulledFileUnmatched(client, schema, {
            connector,
            name,
            checksum,
            answers: parsed.answers.length,
            unmatched: counts.unmatched,
          });
        }
        await client.query("commit");
        return fresh;
      } catch (error) {
        await client.query("rollback").catch(() => undefined);
        throw error;
      }
    });
    faultPoint("answers-applied-before-move");
    const movedTo = await store.moveToDone(name, checksum);
    for (const line of parsed.unreadable) {
      logger.warn({ connector, file: name, line: line.line, reason: line.reason }, "answer file line cannot be read");
    }
    const report: FilePullReport = {
      name,
      checksum,
      applied,
      confirmed: counts.confirmed,
      rejected: counts.rejected,
      unmatched: counts.unmatched,
      unreadable: parsed.unreadable.length,
      movedTo,
    };
    logger.info(
      { connector, ...report },
      applied ? "answer file applied" : "answer file was applied before; moved to done",
    );
    return report;
  }

  private count(
    counts: { confirmed: number; rejected: number; unmatched: number; duplicate: number },
    result: AnswerResult,
  ): void {
    const { connector, metrics, logger } = this.options;
    if (result.kind === "unmatched") {
      counts.unmatched++;
      metrics?.recordInbound(connector, "unknown_correlation");
      return;
    }
    if (result.duplicate) {
      counts.duplicate++;
      metrics?.recordInbound(connector, "duplicate");
      return;
    }
    if (result.state === "confirmed") counts.confirmed++;
    else counts.rejected++;
    metrics?.recordInbound(connector, result.state === "confirmed" ? "confirmed" : "rejected");
    logger.info(
      { connector, deliveryId: result.deliveryId, token: result.token, correlationId: result.correlationId },
      result.state === "confirmed" ? "delivery confirmed by the partner" : "delivery rejected by the partner",
    );
  }
}
