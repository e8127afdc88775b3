// The registered essctl commands: one list for the entry point and for anything that runs essctl in-process.
import { backfillCommand } from "./backfill.js";
import { checkCommand } from "./check.js";
import type { EssctlCommand } from "./cli-options.js";
import { copybookCommand } from "./copybook.js";
import { demoCommand } from "./demo.js";
import { listCommand } from "./list.js";
import { migrateCommand } from "./migrate.js";
import { partnersCommand } from "./partners.js";
import { pauseCommand, resumeCommand } from "./pause.js";
import { publicationCommand } from "./publication.js";
import { replayCommand } from "./replay.js";
import { startCommand } from "./start.js";
import { statsCommand } from "./stats.js";
import { upgradePlanCommand } from "./upgrade-plan.js";
/** The commands, in the order `essctl --help` lists them. */
export const COMMANDS: readonly EssctlCommand[] = [
  migrateCommand,
  checkCommand,
  publicationCommand,
  startCommand,
  listCommand,
  replayCommand,
  statsCommand,
  pauseCommand,
  resumeCommand,
  backfillCommand,
  upgradePlanCommand,
  copybookCommand,
  demoCommand,
  partnersCommand,
];
