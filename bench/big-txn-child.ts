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
// Where the memory is at its peak: the V8 heap (JavaScript objects) or outside it (Buffers).
const peak = { heapMb: 0, externalMb: 0 };
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  peak.heapMb = Math.max(peak.heapMb, Math.round(m.heapUsed / 1048576));
  peak.externalMb = Math.max(peak.externalMb, Math.round(m.external / 1048576));
}, 200);
const started = process.hrtime.bigint();
void engine.start();
await done;
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await engine.stop();
clearInterval(sampler);
const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
process.stdout.write(
  `${JSON.stringify({ seconds, peakRssMb, peakHeapMb: peak.heapMb, peakExternalMb: peak.externalMb })}\n`,
);
process.exit(0);
