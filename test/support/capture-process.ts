// A capture process for crash tests: runs the capture service for a database URL until SIGTERM.
import { CaptureService } from "../../src/capture/capture-service.js";
import { createLogger } from "../../src/ops/logger.js";
import { captureOptions } from "./capture-fixture.js";

const url = process.argv[2];
if (!url) {
  process.stderr.write("usage: capture-process <database url>\n");
  process.exit(2);
}
const service = new CaptureService(
  captureOptions(url, {
    logger: createLogger({ level: "warn", destination: process.stderr }),
    limits: { batchRows: 200, maxBufferedRows: 1000 },
  }),
);
process.on("SIGTERM", () => void service.stop());
service.run().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`capture failed: ${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
