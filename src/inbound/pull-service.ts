// Runs every connector's `pull:` on its schedule: answer files for sftp and file connectors,
// status polling for rest connectors. A failed round is logged and tried again next time.
import type pg from "pg";
import { type AnswerFileStore, LocalAnswerFiles, SftpAnswerFiles } from "../adapters/answer-files.js";
import { redactSecrets } from "../config/secrets.js";
import type { ConnectorConfig } from "../config/types.js";
import type { Logger } from "../ops/logger.js";
import type { EssMetrics } from "../ops/metrics.js";
import { FileAnswerPull } from "./file-answer-pull.js";
import { StatusPoll } from "./status-poll.js";

export interface PullServiceOptions {
  readonly connectors: readonly ConnectorConfig[];
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly logger: Logger;
  readonly metrics?: EssMetrics;
}

interface PullLoop {
  readonly connector: string;
  readonly everyMs: number;
  run(): Promise<unknown>;
  close(): Promise<void>;
}

export class PullService {
  private readonly loops: PullLoop[];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly rounds = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly options: PullServiceOptions) {
    this.loops = options.connectors.flatMap((c) => {
      const loop = pullLoop(c, options);
      return loop ? [loop] : [];
    });
  }

  start(): void {
    for (const loop of this.loops) this.schedule(loop, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.rounds]);
    await Promise.all(this.loops.map((l) => l.close().catch(() => undefined)));
  }

  private schedule(loop: PullLoop, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const round = loop
        .run()
        .catch((error: unknown) => {
          this.options.logger.warn(
            { connector: loop.connector, err: { message: redactSecrets(String((error as Error)?.message ?? error)) } },
            "pulling answers failed; trying again next round",
          );
        })
        .finally(() => {
          this.rounds.delete(round);
          this.schedule(loop, loop.everyMs);
        });
      this.rounds.add(round);
    }, delayMs);
    this.timers.add(timer);
  }
}

function pullLoop(connector: ConnectorConfig, options: PullServiceOptions): PullLoop | undefined {
  const pull = connector.pull;
  if (!pull) return undefined;
  const common = {
    connector: connector.name,
    pool: options.pool,
    schema: options.schema,
    logger: options.logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(connector.answers ? { answers: connector.answers } : {}),
  };
  if (pull.kind === "status") {
    if (connector.adapter !== "rest") return undefined;
    const poll = new StatusPoll({ ...common, pull, headers: connector.rest.headers });
    return { connector: connector.name, everyMs: pull.everyMs, run: () => poll.pollOnce(), close: async () => {} };
  }
  let store: AnswerFileStore;
  if (connector.adapter === "sftp") {
    store = new SftpAnswerFiles(connector.name, connector.sftp, pull.dir, pull.file, pull.done);
  } else if (connector.adapter === "file") {
    store = new LocalAnswerFiles(connector.name, pull.dir, pull.file, pull.done);
  } else {
    return undefined;
  }
  const files = new FileAnswerPull({ ...common, pull, store });
  return { connector: connector.name, everyMs: pull.everyMs, run: () => files.pullOnce(), close: () => store.close() };
}
