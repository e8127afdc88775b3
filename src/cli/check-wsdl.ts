// The `check` phase that asks each SOAP connector's WSDL whether it defines the configured operation.

import { readFile } from "node:fs/promises";
import { displayWsdl, wsdlOperations } from "../adapters/soap-wsdl.js";
import { displayFileName, type EssConfig } from "../config/index.js";
import type { CheckPhase, CheckProblem } from "./check-report.js";

const PHASE = "wsdl";

/**
 * A WSDL file is always read; a WSDL URL is fetched only when `check` may use the network
 * (`offline` false). What could not be verified is said in a note, never passed silently.
 */
export function wsdlPhase(options: { readonly offline: boolean }): CheckPhase {
  return {
    name: PHASE,
    applies: (config) => config.connectors.some((c) => c.adapter === "soap"),
    async run(config: EssConfig) {
      const problems: CheckProblem[] = [];
      const info: string[] = [];
      for (const connector of config.connectors) {
        if (connector.adapter !== "soap") continue;
        const { wsdl, operation, timeoutMs } = connector.soap;
        const where = `connector ${connector.name}: soap.operation "${operation}"`;
        if (options.offline && /^https?:\/\//i.test(wsdl)) {
          info.push(`${where} not verified: the WSDL ${displayWsdl(wsdl)} is a URL and --offline fetches nothing`);
          continue;
        }
        let operations: ReadonlySet<string>;
        try {
          operations = await wsdlOperations(wsdl, timeoutMs);
        } catch (error) {
          const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
          info.push(`${where} not verified: cannot read the WSDL ${displayWsdl(wsdl)}: ${redactUrls(reason ?? "")}`);
          continue;
        }
        if (operations.has(operation)) continue;
        const defined = [...operations].sort();
        const file = connector.location.file;
        const at = (await operationLine(file)) ?? connector.location;
        problems.push({
          phase: PHASE,
          message:
            `${displayFileName(file)}:${at.line}:${at.column}: soap.operation: ` +
            `the WSDL ${displayWsdl(wsdl)} defines no operation "${operation}"`,
          file,
          line: at.line,
          column: at.column,
          path: "soap.operation",
          expected: defined.length > 0 ? `one of ${defined.join(", ")}` : "an operation the WSDL defines",
          found: JSON.stringify(operation),
          fix:
            defined.length > 0
              ? `set soap.operation to one of ${defined.join(", ")}`
              : "point soap.wsdl at the partner's WSDL",
        });
      }
      return { problems, info };
    },
  };
}

/** The line of `operation:` in the connector file (the canonical key and the recipe alias are both spelled so). */
async function operationLine(file: string): Promise<{ line: number; column: number } | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return undefined;
  }
  const lines = text.split("\n");
  for (const [index, line] of lines.entries()) {
    const match = /^(\s*)operation\s*:/.exec(line);
    if (match) return { line: index + 1, column: (match[1]?.length ?? 0) + 1 };
  }
  return undefined;
}

/** Error texts of the WSDL fetch may quote the URL; its user info and query are never shown. */
function redactUrls(text: string): string {
  return text.replace(/https?:\/\/[^\s"'<>]+/gi, (url) => {
    try {
      return displayWsdl(url);
    } catch {
      return "<url>";
    }
  });
}
