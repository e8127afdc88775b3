// A capture process for crash tests: runs the capture service from a JSON argument until SIGTERM.
import { CaptureService } from "../../src/capture/capture-service.js";
import { createLogger } from "../../src/ops/logger.js";
import { slotFor } from "./capture-fixture.js";

const url = process.argv[2];
if (!url) {
  process.stderr.write("usage: capture-process <database url>\n");
  process.exit(2);
}
const service = new CaptureService({
  sourceUrl: url,
  ledgerUrl: url,
  schema: "ess",
  slot: slotFor(url),
  publication: "ess_pub",
  plugin: "pgoutput",
  tables: [
    { schema: "public", name: "permits" },
    { schema: "public", name: "hearings" },
  ],
  heartbeatMs: 0,
  logger: createLogger({ level: "warn", destination: process.stderr }),
  reconnect: { initialMs: 50, maxMs: 500 },
  statusIntervalMs: 200,
  limits: { batchRows: 200, maxBufferedRows: 1000 },
});
process.on("SIGTERM", () => void service.stop());
service.run().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`capture failed: ${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
