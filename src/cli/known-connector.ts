// A --connector option must name a configured connector: a typo would otherwise list or replay nothing and exit 0.
import type { EssConfig } from "../config/types.js";
import { UsageError } from "./cli-options.js";

export function knownConnector(config: EssConfig, name: string): void {
  const names = config.connectors.map((c) => c.name);
  if (names.includes(name)) return;
  throw new UsageError(
    `--connector ${name} names no connector in ${config.connectorsDir} (known: ${names.join(", ") || "none"})`,
    "connector",
  );
}
