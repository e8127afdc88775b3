// Asks a REST partner's status endpoint about every delivery it took and has not answered yet
// (`pull.url` with {correlationId}); an answer with a verdict is applied like a callback, and a
// delivery unanswered past `pull.giveUpAfter` goes dead with that reason (replayable).
import type pg from "pg";
import { callHttp, type HttpReply } from "../adapters/http-transport.js";
import type { AnswerTable, StatusPull } from "../config/types.js";
import { type AnswerStatus, applyAnswer, storableAnswer } from "../ledger/inbound.js";
import { type AwaitingAnswer, deliveriesAwaitingAnswer, giveUpWaiting } from "../ledger/pulled-files.js";
import { withPooledClient } from "../ledger/queryable.js";
import type { Logger } from "../ops/logger.js";
import type { EssMetrics } from "../ops/metrics.js";
import { writeAnswerRow } from "./answer-table.js";

export interface StatusPollOptions {
  readonly connector: string;
  readonly pull: StatusPull;
  /** The connector's rest headers (an API key), sent with the pull's own. */
  readonly headers: Readonly<Record<string, string>>;
  readonly answers?: AnswerTable;
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly logger: Logger;
  readonly metrics?: EssMetrics;
}

export interface StatusPollReport {
  readonly asked: number;
  readonly confirmed: number;
  readonly rejected: number;
  readonly waiting: number;
  readonly gaveUp: number;
}

/** Deliveries asked about per round; the longest waiting first, the rest next round. */
const PER_ROUND = 200;

export class StatusPoll {
  constructor(private readonly options: StatusPollOptions) {}

  async pollOnce(): Promise<StatusPollReport> {
    const { connector, pull, pool, schema, logger } = this.options;
    const report = { asked: 0, confirmed: 0, rejected: 0, waiting: 0, gaveUp: 0 };
    for (const delivery of await deliveriesAwaitingAnswer(pool, schema, connector, PER_ROUND)) {
      if (Date.now() - delivery.sentAt.getTime() > pull.giveUpAfterMs) {
        const reason = `no answer from the partner's status endpoint within ${Math.round(pull.giveUpAfterMs / 1000)}s of sending`;
        if (await withPooledClient(pool, (client) => giveUpWaiting(client, schema, connector, delivery, reason))) {
          report.gaveUp++;
          logger.warn(
            { connector, deliveryId: delivery.id, token: delivery.token, reason },
            "gave up waiting for an answer",
          );
        }
        continue;
      }
      report.asked++;
      const answer = await this.ask(delivery);
      if (answer === "unreachable") break;
      if (answer === undefined) {
        report.waiting++;
        continue;
      }
      // One answer the ledger or the application's table cannot take must not keep the answers
      // behind it from being applied: it is logged and asked again next round, until giveUpAfter.
      const partnerAnswer = storableAnswer({
        connector,
        correlation: delivery.correlationId,
        status: answer.status,
        reference: answer.reference,
        message: answer.message,
        body: answer.document,
        via: "poll",
      });
      const result = await withPooledClient(pool, (client) =>
        applyAnswer(
          client,
          schema,
          partnerAnswer,
          this.options.answers
            ? (r) => writeAnswerRow(client, this.options.answers as AnswerTable, partnerAnswer, r)
            : undefined,
        ),
      ).catch((error: unknown) => {
        logger.error(
          { connector, deliveryId: delivery.id, token: delivery.token, err: error },
          "the partner's answer could not be applied; asking again next round",
        );
        return undefined;
      });
      if (result === undefined) {
        report.waiting++;
        continue;
      }
      if (result.kind === "applied" && !result.duplicate) {
        if (result.state === "confirmed") report.confirmed++;
        else report.rejected++;
        this.options.metrics?.recordInbound(connector, result.state === "confirmed" ? "confirmed" : "rejected");
        logger.info(
          { connector, deliveryId: result.deliveryId, token: result.token, correlationId: result.correlationId },
          result.state === "confirmed" ? "delivery confirmed by the partner" : "delivery rejected by the partner",
        );
      }
    }
    return report;
  }

  /** The verdict, undefined while the partner has none yet, or "unreachable" to end the round. */
  private async ask(delivery: AwaitingAnswer): Promise<
    | {
        status: AnswerStatus;
        reference: string | null;
        message: string | null;
        document: Record<string, unknown>;
      }
    | undefined
    | "unreachable"
  > {
    const { connector, pull, logger } = this.options;
    const url = pull.url
      .replaceAll("{correlationId}", encodeURIComponent(delivery.correlationId))
      .replaceAll("{token}", encodeURIComponent(delivery.token));
    let response: HttpReply;
    try {
      response = await callHttp({
        method: "GET",
        url,
        headers: { accept: "application/json", ...this.options.headers, ...pull.headers },
        signal: AbortSignal.timeout(pull.timeoutMs),
      });
    } catch (error) {
      logger.warn({ connector, err: { message: (error as Error).message } }, "status endpoint unreachable");
      return "unreachable";
    }
    if (response.status === 404 || response.status === 202) return undefined;
    if (response.status < 200 || response.status > 299) {
      logger.warn({ connector, deliveryId: delivery.id, status: response.status }, "status endpoint failed");
      return response.status >= 500 ? "unreachable" : undefined;
    }
    if (response.truncated) {
      logger.warn({ connector, deliveryId: delivery.id }, "status endpoint answered more than a status answer holds");
      return undefined;
    }
    let document: unknown;
    try {
      document = JSON.parse(response.body);
    } catch {
      // Logged below as an answer without a verdict; asked again next round.
      document = undefined;
    }
    if (document === null || typeof document !== "object" || Array.isArray(document)) {
      logger.warn({ connector, deliveryId: delivery.id }, "status endpoint answered no JSON object");
      return undefined;
    }
    const record = document as Record<string, unknown>;
    const status = typeof record.status === "string" ? record.status.trim().toLowerCase() : "";
    if (status !== "accepted" && status !== "rejected") return undefined;
    return {
      status,
      reference: text1(record.reference ?? record.partnerReference ?? record.ref),
      message: text1(record.message ?? record.reason),
      document: record,
    };
  }
}

function text1(value: unknown): string | null {
  if (typeof value === "number") return String(value);
  return typeof value === "string" && value !== "" ? value.slice(0, 2000) : null;
}
