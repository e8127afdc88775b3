// essctl demo: the whole flow on a throw-away PostgreSQL with the shipped ess.yaml, connectors/ and
// mappings/ pointed at local partners, from business changes to what each partner received.
import { rmSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { type EssConfig, loadConfig, redactUrl } from "../config/index.js";
import { EssEngine } from "../engine.js";
import { Gateway } from "../gateway/index.js";
import { retriedDeliveries } from "../ledger/delivery-history.js";
import { migrate } from "../ledger/migrate.js";
import { createLogger } from "../ops/logger.js";
import { CleanupStack } from "./cleanup-stack.js";
import { waitForDeliveries } from "./delivery-wait.js";
import { assertPointedAtPartners, demoEnvironment, withDemoPacing } from "./demo-config.js";
import { DemoInterruptedError, DemoStageError, throwIfInterrupted } from "./demo-errors.js";
import { demoWorkload, RETRIED_PERMIT, runWorkload } from "./demo-workload.js";
import { prepareDropViews } from "./drop-views.js";
import { type DemoPostgres, startDemoPostgres } from "./embedded-postgres.js";
import { existingPostgres } from "./existing-postgres.js";
import { createHmsDatabase } from "./hms-schema.js";
import { partnerAnswerLines } from "./partner-answer.js";
import { partnerListLines } from "./partner-list.js";
import { partnerReportLines } from "./partner-report.js";
import { startRestPartner } from "./rest-partner.js";
import { startSftpPartner } from "./sftp-partner.js";
import { startSoapPartner } from "./soap-partner.js";

export interface DemoIo {
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM: the demo cleans up and fails with DemoInterruptedError. */
  readonly signal: AbortSignal;
  /** A line of the demo's report (stdout). */
  print(text: string): void;
  /** A line of diagnostics (stderr): engine logs, cleanup failures. */
  warn(text: string): void;
}

/** What a caller needs to look at the running demo with its own tools (e.g. essctl stats). */
export interface DemoSite {
  readonly configPath: string;
  readonly env: NodeJS.ProcessEnv;
}

export interface DemoOptions {
  /** Runs after everything was delivered, while ESS still runs; its output follows the report. */
  readonly whileRunning?: (site: DemoSite) => Promise<void>;
  /** How long to wait for every delivery (default 30 s). */
  readonly deliveryTimeoutMs?: number;
}

/** src/demo/ and dist/demo/ are both two levels below the package root, where the examples live. */
const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ESS_YAML = join(PACKAGE_ROOT, "ess.yaml");
const COUNTY_WSDL = join(PACKAGE_ROOT, "connectors", "county_scheduler.wsdl");
const DATABASE = "hms";
const SFTP_USER = "ess";

/** Runs the demo; throws DemoStageError (or DemoInterruptedError) after cleaning up when anything fails. */
export async function runDemo(io: DemoIo, options: DemoOptions = {}): Promise<void> {
  const started = Date.now();
  const cleanup = new CleanupStack();
  // A signal only asks: the current step finishes or fails, then the clean-up below runs.
  const onAbort = (): void =>
    io.warn(`essctl demo: interrupted (${String(io.signal.reason)}), stopping and cleaning up`);
  io.signal.addEventListener("abort", onAbort, { once: true });
  let failure: unknown;
  try {
    await demonstrate(io, options, cleanup);
  } catch (error) {
    failure = error;
  }
  const problems = await cleanup.run();
  io.signal.removeEventListener("abort", onAbort);
  for (const problem of problems) io.warn(`demo clean-up: ${problem.what} failed: ${String(problem.error)}`);
  if (failure !== undefined) throw failure;
  if (problems.length > 0) {
    throw new DemoStageError("cleaning up", {
      cause: new AggregateError(
        problems.map((p) => p.error),
        problems.map((p) => p.what).join(", "),
      ),
    });
  }
  io.print(
    `\nDemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s; everything it started is stopped and removed.`,
  );
}

async function demonstrate(io: DemoIo, options: DemoOptions, cleanup: CleanupStack): Promise<void> {
  const stage = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    throwIfInterrupted(io.signal);
    try {
      return await work();
    } catch (error) {
      if (error instanceof DemoInterruptedError || error instanceof DemoStageError) throw error;
      // After Ctrl-C, PostgreSQL (in the same process group) goes away under the step: the signal is the cause.
      throwIfInterrupted(io.signal);
      throw new DemoStageError(what, { cause: error });
    }
  };
  io.print(
    "ESS demo: the shipped ess.yaml, connectors/ and mappings/ on a throw-away PostgreSQL, with local partners.\n",
  );

  const work = await stage("creating a temporary directory", () => mkdtemp(join(tmpdir(), "ess-demo-")));
  // A second Ctrl-C or a crash may end the process before the clean-up runs: the directory goes
  // with the process in any case.
  const removeOnExit = (): void => rmSync(work, { recursive: true, force: true });
  process.once("exit", removeOnExit);
  cleanup.push(`removing ${work}`, async () => {
    await rm(work, { recursive: true, force: true });
    process.removeListener("exit", removeOnExit);
  });

  // SPEC §2: the demo uses embedded-postgres unless DATABASE_URL points at an existing server.
  const existingUrl = io.env.DATABASE_URL;
  const existing = existingUrl ? existingPostgres(existingUrl) : undefined;
  const database = existing?.database ?? DATABASE;
  let postgres: DemoPostgres;
  if (existing && existingUrl) {
    postgres = existing;
    cleanup.push(`dropping database ${database} and its slot`, () => existing.stop());
    io.print(`PostgreSQL at DATABASE_URL (${redactUrl(existingUrl)}): database ${database}, dropped at the end`);
  } else {
    postgres = await stage("starting the embedded PostgreSQL", () => startDemoPostgres(work));
    cleanup.push("stopping the embedded PostgreSQL", () => postgres.stop());
    io.print(`PostgreSQL 17 (embedded-postgres) on 127.0.0.1:${postgres.port}, wal_level=logical, data in ${work}`);
  }

  const sftp = await stage("starting the SFTP partner", async () => {
    const root = join(work, "sftp");
    await mkdir(root);
    return await startSftpPartner(root, SFTP_USER);
  });
  cleanup.push("stopping the SFTP partner", () => sftp.stop());
  const soap = await stage("starting the SOAP partner", () =>
    startSoapPartner({
      wsdlFile: COUNTY_WSDL,
      service: "SchedulerService",
      port: "SchedulerPort",
      operation: "Reschedule",
      path: "/soap/scheduler",
      username: "ess",
    }),
  );
  cleanup.push("stopping the SOAP partner", () => soap.stop());
  const rest = await stage("starting the REST partner", () =>
    startRestPartner({
      path: "/api/bridge",
      healthPath: "/health",
      failOncePermit: RETRIED_PERMIT,
      retryAfterSeconds: 1,
    }),
  );
  cleanup.push("stopping the REST partner", () => rest.stop());
  const dropDir = join(work, "drops");

  const partners = { databaseUrl: postgres.url(database), sftp, soap, rest, dropDir };
  const env = demoEnvironment(io.env, partners);
  const config = await stage(`loading ${ESS_YAML} with the demo's environment`, async () => {
    const loaded = await loadConfig(ESS_YAML, { env });
    assertPointedAtPartners(loaded, partners);
    return withDemoPacing(loaded);
  });

  if (existing) await stage("checking the server at DATABASE_URL", () => existing.verify(config.replication.slot));
  const source = await stage("creating the HMS database, its publication and slot", () =>
    createHmsDatabase(postgres.url(), database, {
      publication: config.replication.publication,
      slot: config.replication.slot,
      plugin: config.replication.plugin,
    }),
  );
  const migration = await stage("migrating the ledger", () =>
    migrate({ connectionString: config.ledger.url ?? config.database.url, schema: config.ledger.schema }),
  );
  io.print(
    `database ${database}: tables public.permits, public.hearings, public.grants; publication ${source.publication}; ` +
      `slot ${source.slot} (${source.plugin}); ledger schema ${migration.schema} migrated ` +
      `(${migration.results.filter((r) => r.status === "applied").length} migrations applied)`,
  );
  io.print("\nPartners (the shipped connectors, redirected through their environment variables)");
  for (const line of partnerListLines(config, { sftp: `${sftp.host}:${sftp.port}`, soap: soap.url, rest: rest.url }))
    io.print(line);

  const engine = await stage("starting ESS", () => {
    const logStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        io.warn(chunk.toString("utf8").trimEnd());
        done();
      },
    });
    const logger = createLogger({ level: io.env.ESS_LOG_LEVEL ?? "error", destination: logStream });
    return EssEngine.create(config, { logger });
  });
  cleanup.push("stopping ESS", () => engine.stop());
  const drops = await stage("creating the partners' drop directories", () =>
    prepareDropViews(config, engine.mappings, { root: sftp.root, address: `${sftp.host}:${sftp.port}` }),
  );
  const running = engine.start();
  // ESS only stops by itself when capture fails for good: stop waiting for deliveries then.
  const engineEnded = new AbortController();
  running.then(
    () => engineEnded.abort(new Error("ESS stopped before everything was delivered")),
    (error: unknown) => engineEnded.abort(error instanceof Error ? error : new Error(String(error))),
  );

  const ledger = new pg.Client({
    connectionString: config.ledger.url ?? config.database.url,
    application_name: "ess-demo",
  });
  // An idle client whose server goes away (Ctrl-C reaches PostgreSQL too) emits "error": report it, don't crash.
  ledger.on("error", (error) => io.warn(`demo ledger connection: ${error.message}`));
  await stage("connecting to the ledger", () => ledger.connect());
  cleanup.push("closing the ledger connection", () => ledger.end());

  const gateway = new Gateway({
    databaseUrl: source.databaseUrl,
    ...(config.ledger.url ? { ledgerUrl: config.ledger.url } : {}),
    schema: config.ledger.schema,
  });
  cleanup.push("closing the Gateway", () => gateway.close());
  const rescheduledTo = new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10);
  const transactions = await stage("writing the business changes", () =>
    runWorkload(source.databaseUrl, gateway, demoWorkload(rescheduledTo)),
  );
  io.print("\nBusiness changes (one transaction each)");
  for (const [i, t] of transactions.entries()) io.print(`  ${i + 1}. ${t.description}`);

  const waitedMs = await stage("waiting for every delivery", () =>
    waitForDeliveries(
      ledger,
      config.ledger.schema,
      transactions.map((t) => t.xid),
      {
        timeoutMs: options.deliveryTimeoutMs ?? 30_000,
        signal: AbortSignal.any([io.signal, engineEnded.signal]),
      },
    ),
  );
  io.print(`\nEverything was delivered ${(waitedMs / 1000).toFixed(1)} s after the last commit.`);
  for (const { receiptId } of transactions) {
    if (!receiptId) continue;
    const state = await stage("reading the event's receipt", () => gateway.receipt(receiptId));
    io.print(`Gateway.receipt("${receiptId}") is now "${state}".`);
  }
  io.print("");

  const lines = await stage("reading what the partners received", async () =>
    partnerReportLines({
      drops,
      soap: { connector: connectorOf(config, "soap"), calls: soap.calls },
      rest: { connector: connectorOf(config, "rest"), requests: rest.requests },
      retried: await retriedDeliveries(ledger, config.ledger.schema),
    }),
  );
  io.print("What each partner received");
  for (const line of lines) io.print(line);
  for (const error of sftp.errors) io.warn(`SFTP partner: ${error}`);

  const event = transactions.find((t) => t.receiptId)?.receiptId;
  const county = connectorOf(config, "soap");
  const token = env.COUNTY_CALLBACK_TOKEN;
  if (event && token) {
    const answer = await stage("letting the county scheduler answer", async () => {
      await engine.listen();
      const inbound = engine.inboundAddress() ?? engine.httpAddress();
      if (!inbound) throw new Error("ESS is not listening for partners");
      return partnerAnswerLines({
        ledgerUrl: config.ledger.url ?? config.database.url,
        inboundUrl: inbound.url,
        connector: county,
        bearerToken: token,
        gateway,
        receiptId: event,
        timeoutMs: 15_000,
      });
    });
    io.print("\nA partner answers, and the application hears it");
    for (const line of answer) io.print(line);
  }

  const report = options.whileRunning;
  if (report) await stage("reporting on the running ESS", () => report({ configPath: ESS_YAML, env }));
}

function connectorOf(config: EssConfig, adapter: "soap" | "rest"): string {
  return config.connectors.find((c) => c.adapter === adapter)?.name ?? adapter;
}
