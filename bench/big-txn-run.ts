// npm run bench:big [-- --rows N]: the one-big-transaction case alone, on an embedded server of its own.
import { parseArgs } from "node:util";
import { startEmbeddedPostgres } from "../test/support/embedded-server.js";
import { measureBigTransaction } from "./big-txn-bench.js";

const { values } = parseArgs({ options: { rows: { type: "string", default: "1000000" } } });
const rows = Number(values.rows);
if (!Number.isInteger(rows) || rows <= 0) {
  process.stderr.write("--rows must be a positive whole number\n");
  process.exit(2);
}
const server = await startEmbeddedPostgres();
try {
  process.stdout.write(`${JSON.stringify(await measureBigTransaction(server.url(), rows))}\n`);
} finally {
  await server.stop();
}
