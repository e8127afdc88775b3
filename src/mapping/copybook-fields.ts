// The field expressions of a fixed-width target taken from a copybook record: a field the target
// already has keeps its expression when its width and picture agree with the copybook, or keeps
// its column under the copybook's picture; a new field reads the column named like it.
import type { FieldSpec } from "../config/types.js";
import { CopybookError, type CopybookField, type CopybookRecord } from "./copybook.js";
import type { CompiledField } from "./field.js";
import type { FixedWidthLayout } from "./fixed-width.js";
import type { Picture } from "./pic.js";

export interface ImportedField {
  readonly name: string;
  readonly spec: FieldSpec;
  /** What happened to it, for the operator: kept, re-pictured, new (column guessed), filler. */
  readonly note: "kept" | "repictured" | "new" | "filler" | "placeholder";
}

export interface ExistingField {
  readonly name: string;
  readonly spec: FieldSpec;
}

/**
 * `role` "record": new fields read the column named like the field (`PERMIT-ID` → `permit_id`).
 * "header"/"trailer": new fields are constants to fill in (e.g. `_record_count | pic:9(8)`).
 */
export function fieldsFromCopybook(
  record: CopybookRecord,
  role: "record" | "header" | "trailer",
  existing: readonly ExistingField[],
  layout: FixedWidthLayout | undefined,
  terminator: Buffer,
  file: string,
): ImportedField[] {
  const out: ImportedField[] = [];
  const fields = withoutTerminator(record.fields, terminator);
  const names = new Set<string>();
  for (const field of fields) {
    if (field.hexValue) {
      throw new CopybookError({
        file,
        line: field.line,
        reason: `${field.name}: a hexadecimal VALUE is only understood as the record terminator at the end of a record`,
      });
    }
    const name = field.filler ? `FILLER-${field.offset + 1}` : field.name;
    if (names.has(name)) {
      throw new CopybookError({ file, line: field.line, reason: `${name} appears twice in record ${record.name}` });
    }
    names.add(name);
    if (field.filler) {
      out.push({ name, spec: constantSpec(field), note: "filler" });
      continue;
    }
    const before = existing.find((e) => e.name === name);
    const placed = layout?.fields.find((p) => p.field.name === name);
    if (before && placed && placed.width === field.width && samePicture(placed.field, field.parsed)) {
      out.push({ name, spec: before.spec, note: "kept" });
      continue;
    }
    const column = placed?.field.column;
    if (column !== undefined) {
      out.push({ name, spec: `${column} | pic:${field.picture}`, note: "repictured" });
    } else if (role === "record") {
      out.push({ name, spec: `${name.toLowerCase().replace(/-/g, "_")} | pic:${field.picture}`, note: "new" });
    } else {
      out.push({ name, spec: constantSpec(field), note: "placeholder" });
    }
  }
  if (out.length === 0)
    throw new CopybookError({ file, line: record.line, reason: `record ${record.name} has no fields` });
  return out;
}

/** A record ends with its terminator when the copybook says so: a FILLER VALUE X"0D25" of those bytes. */
function withoutTerminator(fields: readonly CopybookField[], terminator: Buffer): readonly CopybookField[] {
  const last = fields[fields.length - 1];
  if (last?.filler && last.hexValue && terminator.length > 0 && last.hexValue.equals(terminator)) {
    return fields.slice(0, -1);
  }
  return fields;
}

function constantSpec(field: CopybookField): string {
  const numeric = field.parsed.kind === "numeric";
  const value = field.value ?? (numeric ? "0" : "");
  return `const:${numeric ? value : `'${value.replace(/'/g, "")}'`} | pic:${field.picture}`;
}

function samePicture(field: CompiledField, picture: Picture): boolean {
  const mine = field.picture;
  if (picture.kind === "alphanumeric") return mine === undefined && !field.binary;
  return (
    mine !== undefined &&
    mine.signed === picture.signed &&
    mine.integerDigits === picture.integerDigits &&
    mine.fractionDigits === picture.fractionDigits &&
    mine.usage === picture.usage
  );
}
