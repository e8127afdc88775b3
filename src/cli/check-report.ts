// `essctl check` as phases: the configuration files first, then checks that need the loaded configuration (the database).
import {
  type CanonicalFile,
  ConfigErrors,
  displayFileName,
  type EssConfig,
  type LoadOptions,
  loadConfig,
} from "../config/index.js";

/** One thing an operator must fix, with where it is when it comes from a file. */
export interface CheckProblem {
  readonly phase: string;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly path?: string;
  readonly expected?: string;
  readonly found?: string;
  /** What fixes it: the SQL to run, a command, or a change to a file. */
  readonly fix?: string;
  /** The statements of the fix, when it is SQL. */
  readonly sql?: readonly string[];
}

export interface CheckPhaseResult {
  readonly problems: readonly CheckProblem[];
  /** Facts that need no action, e.g. a replication slot that `essctl start` will create. */
  readonly info?: readonly string[];
  /** Statements a DBA must run (CREATE PUBLICATION, ALTER TABLE … REPLICA IDENTITY, GRANT…). */
  readonly sql?: readonly string[];
}

/**
 * A check that runs once the configuration loaded. Problems make `check` exit 2; a phase that
 * cannot run at all (database unreachable) throws, and `check` exits 1.
 */
export interface CheckPhase {
  readonly name: string;
  /** False when the configuration has nothing this phase checks (it is then not listed as checked). */
  applies?(config: EssConfig): boolean;
  run(config: EssConfig, signal: AbortSignal): Promise<CheckPhaseResult>;
}

export interface CheckReport {
  readonly ok: boolean;
  readonly config: string;
  readonly connectors: readonly string[];
  readonly mappings: readonly string[];
  readonly phases: readonly { readonly name: string; readonly ok: boolean }[];
  readonly problems: readonly CheckProblem[];
  readonly info: readonly string[];
  /** Settings that work but weaken security (plain FTP), each with where it is written; they do not fail the check. */
  readonly warnings: readonly string[];
  readonly sql: readonly string[];
  /** With --explain: every file that used a recipe alias, with its aliases and its canonical form. */
  readonly canonical?: readonly CanonicalFile[];
  /** ess.yaml `timezone` (the server's zone when unset): schedules and `{{date}}` written without a zone. */
  readonly timezone?: string;
}

const CONFIGURATION_PHASE = "configuration";

export async function runChecks(
  configPath: string,
  options: Omit<LoadOptions, "explain"> & {
    readonly phases: readonly CheckPhase[];
    readonly signal: AbortSignal;
    readonly explain?: boolean;
  },
): Promise<CheckReport> {
  const canonical: CanonicalFile[] = [];
  const explained = options.explain === true ? { canonical } : {};
  const { explain: _explain, ...loadOptions } = options;
  let config: EssConfig;
  try {
    config = await loadConfig(configPath, {
      ...loadOptions,
      ...(options.explain === true ? { explain: (file: CanonicalFile) => canonical.push(file) } : {}),
    });
  } catch (error) {
    if (!(error instanceof ConfigErrors)) throw error;
    return {
      ...explained,
      ok: false,
      config: configPath,
      connectors: [],
      mappings: [],
      phases: [{ name: CONFIGURATION_PHASE, ok: false }],
      problems: error.errors.map((e) => ({
        phase: CONFIGURATION_PHASE,
        message: e.message,
        file: e.file,
        line: e.line,
        column: e.column,
        path: e.path,
        ...(e.expected !== undefined ? { expected: e.expected } : {}),
        ...(e.found !== undefined ? { found: e.found } : {}),
      })),
      info: [],
      warnings: [],
      sql: [],
    };
  }
  const phases = [{ name: CONFIGURATION_PHASE, ok: true }];
  const problems: CheckProblem[] = [];
  const info: string[] = [];
  const sql: string[] = [];
  for (const phase of options.phases) {
    if (phase.applies !== undefined && !phase.applies(config)) continue;
    const result = await phase.run(config, options.signal);
    phases.push({ name: phase.name, ok: result.problems.length === 0 });
    problems.push(...result.problems);
    info.push(...(result.info ?? []));
    for (const statement of result.sql ?? []) if (!sql.includes(statement)) sql.push(statement);
  }
  return {
    ...explained,
    timezone: config.timezone,
    ok: problems.length === 0,
    config: configPath,
    connectors: config.connectors.map((c) => c.name),
    mappings: config.mappings.map((m) => m.name),
    phases,
    problems,
    info,
    warnings: securityWarnings(config),
    sql,
  };
}

/** Connectors that send credentials and records unencrypted: allowed, but said at every check. */
function securityWarnings(config: EssConfig): string[] {
  const warnings: string[] = [];
  for (const connector of config.connectors) {
    if (connector.adapter !== "ftp" || !connector.ftp.insecure) continue;
    const at = connector.ftp.insecureAt ?? connector.location;
    warnings.push(
      `${displayFileName(at.file)}:${at.line}: ftp.insecure: connector ${connector.name} uses plain FTP: ` +
        `the password and every record reach ${connector.ftp.host} unencrypted (remove insecure to use TLS)`,
    );
  }
  return warnings;
}

/** The report as an operator reads it: every problem on its own line with its fix, notes, the SQL to run, then a summary. */
export function formatCheckReport(report: CheckReport): string {
  const lines = explanation(report.canonical ?? []);
  lines.push(
    ...report.problems.flatMap((problem) =>
      problem.fix ? [problem.message, `  fix: ${problem.fix.replaceAll("\n", "\n       ")}`] : [problem.message],
    ),
  );
  lines.push(...report.warnings.map((warning) => `warning: ${warning}`));
  lines.push(...report.info.map((note) => `note: ${note}`));
  if (report.timezone !== undefined)
    lines.push(`time zone of schedules and {{date}} written without one: ${report.timezone}`);
  if (report.sql.length > 0) lines.push("", "-- SQL a DBA must run:", ...report.sql);
  const file = displayFileName(report.config);
  if (report.ok) {
    lines.push(
      `${file}: configuration valid: ${count(report.connectors, "connector")}, ${count(report.mappings, "mapping")}` +
        ` (checked: ${report.phases.map((p) => p.name).join(", ")})`,
    );
  } else {
    lines.push(`${file}: ${report.problems.length} problem${report.problems.length === 1 ? "" : "s"} found`);
  }
  return lines.join("\n");
}

/** Each alias at its line with the canonical keys it stands for, then each file in canonical form. */
function explanation(files: readonly CanonicalFile[]): string[] {
  const lines: string[] = [];
  for (const file of files) {
    const name = displayFileName(file.file);
    for (const alias of file.aliases) {
      lines.push(`${name}:${alias.line}: ${alias.written}  =>  ${alias.canonical}`);
    }
    lines.push(
      `--- ${name} in canonical form:`,
      ...file.text
        .trimEnd()
        .split("\n")
        .map((line) => `  ${line}`),
      "",
    );
  }
  return lines;
}

function count(names: readonly string[], noun: string): string {
  const list = names.length > 0 ? ` (${names.join(", ")})` : "";
  return `${names.length} ${noun}${names.length === 1 ? "" : "s"}${list}`;
}
