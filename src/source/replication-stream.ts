// One streaming replication session: START_REPLICATION from a position, typed messages in order,
// and standby status updates that only ever report what the consumer has made durable.

import type pg from "pg";
import { LogicalReplicationService } from "pg-logical-replication";
import type { ChangeDecoder, Lsn, SourceMessage } from "../change/change.js";
import { formatLsn, parseLsn } from "../change/lsn.js";
import type { Logger } from "../ops/logger.js";
import { assertPlainIdentifier, quoteLiteral } from "../sql/sql-identifier.js";
import { replicationBackendPid, sendOnReplicationConnection } from "./replication-connection.js";
import { startupOptions } from "./session-settings.js";
import { standbyStatusUpdate } from "./standby-status.js";

export interface ReplicationStreamOptions {
  readonly connectionString: string;
  readonly slot: string;
  readonly startLsn: Lsn;
  /** Output plugin options for START_REPLICATION (proto_version, publication_names …). */
  readonly pluginOptions: Readonly<Record<string, string>>;
  /** GUCs for the walsender session, so value text is unambiguous (DateStyle, TimeZone …). */
  readonly sessionSettings?: Readonly<Record<string, string>>;
  /** How often to send a status update even when nothing changed (keeps wal_sender_timeout away). */
  readonly statusIntervalMs?: number;
  /**
   * End the session when the server has said nothing for this long although replies were asked
   * for: a connection that hangs without an error (a dead peer, a frozen network path) is then
   * replaced instead of waiting for TCP to notice, hours later.
   */
  readonly silentAfterMs?: number;
  readonly logger: Logger;
}

export interface StreamConsumer {
  /** Called once per message, in WAL order; a returned promise holds the stream (back-pressure). */
  onMessage(message: SourceMessage): void | Promise<void>;
  /** True when everything handed over so far is durable and no transaction is open. */
  isIdle(): boolean;
}

/** The server went silent: the session is ended so that it can be opened again. */
export class ReplicationSilentError extends Error {
  override readonly name = "ReplicationSilentError";
  constructor(
    readonly silentForMs: number,
    /** The walsender of the silent session, which may still hold the slot. */
    readonly backendPid: number | undefined,
  ) {
    super(`the replication connection has been silent for ${Math.round(silentForMs / 1000)} s; reconnecting`);
  }
}

export class DecodeFailure extends Error {
  override readonly name = "DecodeFailure";
  constructor(
    readonly walStart: string,
    options: { cause: unknown },
  ) {
    super(`cannot decode the replication message at ${walStart}: ${(options.cause as Error)?.message}`, options);
  }
}

/** The decoder's error travels as it is; the data handler, which knows the LSN, wraps it. */
type Parsed = { ok: true; message: SourceMessage | null } | { ok: false; error: unknown };

/**
 * Our decoder in the shape of a pg-logical-replication plugin (its base class is not exported).
 * parse() must not throw: the library calls it inside the socket's data handler.
 */
class DecoderPlugin {
  parsedCount = 0;
  constructor(
    private readonly decoder: ChangeDecoder,
    readonly options: Readonly<Record<string, string>>,
  ) {}
  get name(): string {
    return this.decoder.plugin;
  }
  start(client: pg.Client, slotName: string, lastLsn: string): Promise<unknown> {
    const slot = assertPlainIdentifier("replication slot", slotName);
    const options = Object.entries(this.options).map(([k, v]) => `"${k.replaceAll('"', "")}" ${quoteLiteral(v)}`);
    return client.query(`START_REPLICATION SLOT "${slot}" LOGICAL ${lastLsn} (${options.join(", ")})`);
  }
  parse(buffer: Buffer): Parsed {
    this.parsedCount++;
    try {
      // The chunk's buffer is reused by the socket: decoders copy what they keep.
      return { ok: true, message: this.decoder.decode(buffer) };
    } catch (error) {
      return { ok: false, error };
    }
  }
}

export class ReplicationStream {
  private readonly service: LogicalReplicationService;
  private readonly plugin: DecoderPlugin;
  private handledCount = 0;
  private durable: Lsn;
  private lastSent = -1n;
  private statusTimer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private abortSession: ((error: Error) => void) | undefined;
  /** The server's WAL position from the last keepalive (for lag). */
  serverWalEnd: Lsn = 0n;
  lastServerContact = 0;
  private statusTicks = 0;

  constructor(
    private readonly options: ReplicationStreamOptions,
    decoder: ChangeDecoder,
  ) {
    this.durable = options.startLsn;
    this.plugin = new DecoderPlugin(decoder, { ...options.pluginOptions });
    const settings = options.sessionSettings ? startupOptions(options.sessionSettings) : "";
    this.service = new LogicalReplicationService(
      {
        connectionString: options.connectionString,
        application_name: "ess-replication",
        ...(settings ? { options: settings } : {}),
      },
      // The library's timer would acknowledge the last *received* LSN (even a keepalive's,
      // past data not yet stored): both automatic acknowledgements stay off.
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
  }

  get durableLsn(): Lsn {
    return this.durable;
  }

  /** Streams until stop() (resolves) or a connection/decoding failure (rejects). */
  async run(consumer: StreamConsumer): Promise<void> {
    const { service, options } = this;
    let failed: (error: Error) => void = () => undefined;
    const failure = new Promise<never>((_, reject) => {
      failed = reject;
    });
    failure.catch(() => undefined);
    const fail = (error: Error) => {
      this.failure ??= error;
      failed(error);
      void service.stop().catch(() => undefined);
    };
    this.abortSession = fail;
    service.on("error", (error: Error) => fail(error));
    service.on("data", async (walStart: string, parsed: Parsed) => {
      this.lastServerContact = Date.now();
      if (this.failure) return;
      if (!parsed.ok) {
        fail(new DecodeFailure(walStart, { cause: parsed.error }));
        return;
      }
      try {
        if (parsed.message) await consumer.onMessage(parsed.message);
      } catch (error) {
        fail(error as Error);
      } finally {
        this.handledCount++;
      }
    });
    service.on("heartbeat", (walEnd: string, _timestamp: number, shouldRespond: boolean) => {
      if (this.failure) return;
      this.lastServerContact = Date.now();
      const end = parseLsn(walEnd);
      if (end > this.serverWalEnd) this.serverWalEnd = end;
      // Nothing received is waiting to become durable: everything the server decoded up to
      // its WAL end has been filtered out or stored, so the slot may move there. Without this,
      // a slot on a database whose writes are all unpublished retains WAL without bound.
      if (this.handledCount === this.plugin.parsedCount && consumer.isIdle() && end > this.durable) {
        this.durable = end;
      }
      if (shouldRespond || this.durable !== this.lastSent) this.sendStatus();
    });
    service.on("start", () => {
      this.backendPid = replicationBackendPid(service);
      options.logger.info({ slot: options.slot, from: formatLsn(options.startLsn) }, "replication started");
      this.lastServerContact = Date.now();
      const everyMs = options.statusIntervalMs ?? 1000;
      const silentAfterMs = options.silentAfterMs ?? 30_000;
      // Ask for a reply a few times within the silence limit, so an idle but healthy server
      // still answers in time.
      const replyEvery = Math.max(1, Math.floor(silentAfterMs / everyMs / 4));
      this.statusTimer = setInterval(() => {
        const silentFor = this.silentForMs();
        if (silentFor > silentAfterMs) {
          fail(new ReplicationSilentError(silentFor, this.backendPid));
          return;
        }
        this.sendStatus(++this.statusTicks % replyEvery === 0);
      }, everyMs);
      this.statusTimer.unref();
    });
    try {
      await Promise.race([service.subscribe(this.plugin, options.slot, formatLsn(options.startLsn)), failure]);
      if (this.failure) throw this.failure;
    } finally {
      if (this.statusTimer) clearInterval(this.statusTimer);
      await service.stop().catch(() => undefined);
      service.removeAllListeners();
    }
  }

  /** The server process (walsender) of this session, once connected. */
  backendPid: number | undefined;

  /** Ends the session with an error (the consumer cannot go on); run() rejects with it. */
  abort(error: Error): void {
    this.abortSession?.(error);
  }

  /** Marks everything up to `lsn` durable; the server may recycle WAL before it. */
  confirm(lsn: Lsn): void {
    if (lsn <= this.durable) return;
    this.durable = lsn;
    this.sendStatus();
  }

  async stop(): Promise<void> {
    this.sendStatus();
    await this.service.stop();
  }

  /**
   * How long the server has said nothing. Zero while messages already received wait for us:
   * back-pressure from a slow ledger is our silence, not the server's.
   */
  silentForMs(): number {
    if (this.handledCount !== this.plugin.parsedCount || this.lastServerContact === 0) return 0;
    return Date.now() - this.lastServerContact;
  }

  private sendStatus(replyRequested = false): void {
    try {
      if (!sendOnReplicationConnection(this.service, standbyStatusUpdate(this.durable, new Date(), replyRequested))) {
        return;
      }
      this.lastSent = this.durable;
    } catch (error) {
      this.options.logger.warn({ err: error }, "could not send a standby status update");
    }
  }
}
