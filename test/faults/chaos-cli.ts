// npm run chaos -- --kills N --seconds S: the chaos run from the command line; exits 1 unless
// nothing was lost, nothing duplicated and no invariant broke.
import { parseArgs } from "node:util";
import { runChaos, summaryLine } from "./chaos-run.js";

const { values } = parseArgs({
  options: {
    kills: { type: "string", default: "100" },
    seconds: { type: "string" },
    restarts: { type: "string" },
    outages: { type: "string" },
  },
});
const kills = Number(values.kills);
const seconds = values.seconds === undefined ? Math.max(30, kills * 2) : Number(values.seconds);
if (!(kills >= 1) || !(seconds >= 1)) {
  process.stderr.write("usage: npm run chaos -- --kills N --seconds S [--restarts R] [--outages O]\n");
  process.exit(2);
}
const summary = await runChaos({
  kills,
  seconds,
  ...(values.restarts ? { restarts: Number(values.restarts) } : {}),
  ...(values.outages ? { outages: Number(values.outages) } : {}),
  log: (line) => process.stdout.write(`${line}\n`),
});
for (const line of [...summary.violations, ...summary.problems]) process.stdout.write(`  ${line}\n`);
process.stdout.write(`chaos: ${summaryLine(summary)}\n`);
process.exit(
  summary.lost === 0 && summary.duplicated === 0 && summary.violations.length === 0 && summary.problems.length === 0
    ? 0
    : 1,
);
