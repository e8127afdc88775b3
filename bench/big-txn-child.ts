// The ESS process of the big-transaction benchmark: runs the engine until every row of the
// backlog was delivered, then prints its time and its own peak RSS as JSON.
import { loadConfig } from "../src/config/index.js";
import { EssEngine } from "../src/engine.js";
import { silentLogger } from "../src/ops/logger.js";

const [configPath, rowsText] = process.argv.slice(2);
const rows = Number(rowsText);
if (!configPath || !Number.isInteger(rows) || rows <= 0) {
  process.stderr.write("usage: big-txn-child <ess.yaml> <rows>\n");
  process.exit(2);
}
let sent = 0;
let finished: () => void = () => undefined;
const done = new Promise<void>((resolve) => {
  finished = resolve;
});
const engine = await EssEngine.create(await loadConfig(configPath, { env: {} }), {
  logger: silentLogger(),
  pollMs: 20,
  events: {
    onItem: (_connector, verdict) => {
      if (verdict.verdict === "sent" && ++sent >= rows) finished();
    },
  },
});
const started = process.hrtime.bigint();
void engine.start();
await done;
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await engine.stop();
const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
process.stdout.write(`${JSON.stringify({ seconds, peakRssMb })}\n`);
process.exit(0);
