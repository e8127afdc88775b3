// essctl copybook import FILE.cpy --target C [--mapping M] / essctl copybook export <mapping> <target>:
// a fixed-width target's fields from the mainframe team's copybook, and its copybook for them.
import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Option } from "commander";
import { ConfigErrors, displayFileName, type EssConfig, loadConfig, type MappingConfig } from "../config/index.js";
import { writeTargetFields } from "../config/mapping-writer.js";
import { CopybookError, type CopybookRecord, parseCopybook } from "../mapping/copybook.js";
import { CopybookExportError, exportCopybook } from "../mapping/copybook-export.js";
import { fieldsFromCopybook, type ImportedField } from "../mapping/copybook-fields.js";
import { type CompiledTarget, compileMapping, textCodec } from "../mapping/index.js";
import { type CommandContext, type EssctlCommand, EXIT, type ExitCode, UsageError } from "./cli-options.js";

const HEADER_NAME = /-(HEADER|HDR)$/;
const TRAILER_NAME = /-(TRAILER|TRL)$/;

export const copybookCommand: EssctlCommand = {
  usage: "copybook <action> <args...>",
  description:
    "import FILE.cpy --target C: write a fixed-width target's fields from a COBOL copybook; export <mapping> <target>: print the target's copybook",
  configure(command) {
    command
      .addOption(new Option("--target <connector>", "import: the connector of the fixed-width target to write"))
      .addOption(new Option("--mapping <name>", "import: the mapping (needed when several have that target)"))
      .addOption(new Option("--record <name>", "import: the 01 record with the data (when the copybook has several)"))
      .addOption(new Option("--dry-run", "import: print what would change, write nothing"));
  },
  async run(context, args, options) {
    const [action, ...rest] = args;
    try {
      if (action === "export") return await exportAction(context, rest);
      if (action === "import") return await importAction(context, rest, options);
    } catch (error) {
      if (error instanceof CopybookError || error instanceof CopybookExportError) {
        context.output.warn(`error: ${error.message}`);
        return EXIT.invalid;
      }
      throw error;
    }
    throw new UsageError(
      `copybook ${action ?? ""}: expected "import FILE.cpy --target C" or "export <mapping> <target>"`,
    );
  },
};

async function exportAction(context: CommandContext, args: readonly string[]): Promise<ExitCode> {
  const [mappingName, targetName] = args;
  if (mappingName === undefined || targetName === undefined || args.length > 2) {
    throw new UsageError("usage: essctl copybook export <mapping> <target connector>");
  }
  const config = await loadConfig(context.configPath, { env: context.env });
  const mapping = findMapping(config, mappingName);
  const compiled = compiledTarget(config, mapping, targetName);
  if (!compiled.fixedWidth) {
    throw new UsageError(
      `target ${targetName} of mapping ${mappingName} is ${compiled.format}, not fixed-width: it has no copybook`,
    );
  }
  const text = exportCopybook({
    mapping: mapping.name,
    connector: targetName,
    records: compiled.fixedWidth,
    file: displayFileName(mapping.location.file),
  });
  // Printed as is: a copybook is handed to the mainframe team byte for byte.
  context.output.print(text.replace(/\n$/, ""));
  return EXIT.ok;
}

async function importAction(
  context: CommandContext,
  args: readonly string[],
  options: Readonly<Record<string, unknown>>,
): Promise<ExitCode> {
  const [copybookPath] = args;
  const connectorName = typeof options.target === "string" ? options.target : undefined;
  if (copybookPath === undefined || args.length > 1 || connectorName === undefined) {
    throw new UsageError("usage: essctl copybook import FILE.cpy --target <connector> [--mapping <name>]");
  }
  const file = resolve(copybookPath);
  const text = await readFile(file, "utf8").catch((error: unknown) => {
    throw new UsageError(`cannot read ${copybookPath}: ${(error as Error).message}`);
  });
  const records = parseCopybook(text, copybookPath);
  const config = await loadConfig(context.configPath, { env: context.env });
  const connector = config.connectors.find((c) => c.name === connectorName);
  if (!connector) {
    throw new UsageError(
      `--target ${connectorName} names no connector (known: ${config.connectors.map((c) => c.name).join(", ")})`,
    );
  }
  const mapping = importMapping(config, connectorName, options.mapping);
  const existing = mapping.targets.find((t) => t.connector === connectorName);
  const compiled = existing ? compiledTarget(config, mapping, connectorName) : undefined;
  const terminator =
    compiled?.fixedWidth?.terminator ??
    textCodec(connector.encoding, "error").encode(existing?.terminator === "lf" ? "\n" : "\r\n");
  const chosen = chooseRecords(records, typeof options.record === "string" ? options.record : undefined, copybookPath);
  const build = (record: CopybookRecord, role: "record" | "header" | "trailer") =>
    fieldsFromCopybook(
      record,
      role,
      (role === "record" ? existing?.fields : existing?.[role]) ?? [],
      role === "record" ? compiled?.fixedWidth?.record : compiled?.fixedWidth?.[role],
      terminator,
      copybookPath,
    );
  const fields = build(chosen.record, "record");
  const header = chosen.header ? build(chosen.header, "header") : undefined;
  const trailer = chosen.trailer ? build(chosen.trailer, "trailer") : undefined;
  report(context, "fields", fields, existing?.fields.map((f) => f.name) ?? []);
  if (header) report(context, "header", header, existing?.header?.map((f) => f.name) ?? []);
  if (trailer) report(context, "trailer", trailer, existing?.trailer?.map((f) => f.name) ?? []);
  if (options.dryRun === true) return EXIT.ok;
  const file_ = mapping.location.file;
  const written = await writeTargetFields(file_, {
    connector: connectorName,
    fields,
    ...(header ? { header } : {}),
    ...(trailer ? { trailer } : {}),
  });
  try {
    await loadConfig(context.configPath, { env: context.env });
  } catch (error) {
    // The written target does not load (e.g. a guessed column the table lacks is fine, a field
    // too wide is not): put the file back as it was and say why.
    await writeFile(file_, written.previous);
    if (error instanceof ConfigErrors) {
      for (const problem of error.errors) context.output.warn(problem.message);
      context.output.warn(`${file_} is unchanged: the imported layout does not load`);
      return EXIT.invalid;
    }
    throw error;
  }
  context.output.print(
    `${file_}: ${written.added ? "added" : "rewrote"} target ${connectorName} of mapping ${mapping.name} (${fields.length} fields${header ? `, header ${header.length}` : ""}${trailer ? `, trailer ${trailer.length}` : ""}) from ${copybookPath}`,
  );
  return EXIT.ok;
}

function report(context: CommandContext, part: string, fields: readonly ImportedField[], before: readonly string[]) {
  for (const field of fields) {
    const spec = typeof field.spec === "string" ? field.spec : JSON.stringify(field.spec);
    const why = {
      kept: "kept (width and picture agree)",
      repictured: "column kept, picture from the copybook",
      new: "new: reads the column named like the field; check it",
      filler: "FILLER",
      placeholder: "new: a constant placeholder; set its value (e.g. _record_count)",
    }[field.note];
    context.output.print(`  ${part}.${field.name}: ${spec}    # ${why}`);
  }
  for (const name of before) {
    if (!fields.some((f) => f.name === name)) context.output.print(`  ${part}.${name}: removed (not in the copybook)`);
  }
}

function findMapping(config: EssConfig, name: string): MappingConfig {
  const mapping = config.mappings.find((m) => m.name === name);
  if (!mapping) {
    throw new UsageError(`no mapping named ${name} (known: ${config.mappings.map((m) => m.name).join(", ")})`);
  }
  return mapping;
}

function importMapping(config: EssConfig, connector: string, named: unknown): MappingConfig {
  if (typeof named === "string") return findMapping(config, named);
  const candidates = config.mappings.filter((m) => m.targets.some((t) => t.connector === connector));
  if (candidates.length === 1) return candidates[0] as MappingConfig;
  throw new UsageError(
    candidates.length === 0
      ? `no mapping has a target on ${connector}: name the mapping to add it to with --mapping`
      : `mappings ${candidates.map((m) => m.name).join(", ")} all target ${connector}: choose one with --mapping`,
  );
}

function compiledTarget(config: EssConfig, mapping: MappingConfig, connector: string): CompiledTarget {
  const index = mapping.targets.findIndex((t) => t.connector === connector);
  if (index < 0) {
    throw new UsageError(
      `mapping ${mapping.name} has no target on ${connector} (its targets: ${mapping.targets.map((t) => t.connector).join(", ")})`,
    );
  }
  const result = compileMapping(mapping, new Map(config.connectors.map((c) => [c.name, c])));
  const target = result.mapping?.targets[index];
  if (!target) throw new ConfigErrors([...result.errors]);
  return target;
}

/** The data record, and the header and trailer records named …-HEADER / …-TRAILER. */
function chooseRecords(
  records: readonly CopybookRecord[],
  named: string | undefined,
  file: string,
): { record: CopybookRecord; header?: CopybookRecord; trailer?: CopybookRecord } {
  const header = records.find((r) => HEADER_NAME.test(r.name));
  const trailer = records.find((r) => TRAILER_NAME.test(r.name));
  const data = named
    ? records.filter((r) => r.name === named.toUpperCase())
    : records.filter((r) => r !== header && r !== trailer);
  if (data.length !== 1) {
    throw new UsageError(
      data.length === 0
        ? `${file}: no data record${named ? ` named ${named}` : ""} (records: ${records.map((r) => r.name).join(", ")})`
        : `${file} has several records (${data.map((r) => r.name).join(", ")}): choose the data record with --record`,
    );
  }
  return { record: data[0] as CopybookRecord, ...(header ? { header } : {}), ...(trailer ? { trailer } : {}) };
}
