// Rewrites the fields of one target of a mapping file in place (`essctl copybook import`), keeping
// the file's comments and everything else it says; a JSON mapping stays JSON.
import { readFile, writeFile } from "node:fs/promises";
import { extname } from "node:path";
import { type Document, isMap, isScalar, isSeq, parseDocument, Scalar, YAMLMap } from "yaml";
import type { FieldSpec } from "./types.js";

export interface TargetFields {
  readonly connector: string;
  readonly fields: readonly { readonly name: string; readonly spec: FieldSpec }[];
  readonly header?: readonly { readonly name: string; readonly spec: FieldSpec }[];
  readonly trailer?: readonly { readonly name: string; readonly spec: FieldSpec }[];
}

/** The mapping file cannot take the fields (no such target and no `targets:` list to add it to). */
export class MappingWriteError extends Error {
  override readonly name = "MappingWriteError";
}

export interface WrittenMapping {
  /** The text before, to put back if the result does not load. */
  readonly previous: string;
  /** The target did not exist and was added as `format: fixed-width`. */
  readonly added: boolean;
}

export async function writeTargetFields(file: string, update: TargetFields): Promise<WrittenMapping> {
  const previous = await readFile(file, "utf8");
  const document = parseDocument(previous, { keepSourceTokens: false });
  if (document.errors.length > 0) throw new MappingWriteError(`${file}: ${document.errors[0]?.message}`);
  const root = document.contents;
  if (!isMap(root)) throw new MappingWriteError(`${file} is not a mapping document`);
  let target: YAMLMap | undefined;
  let added = false;
  if (scalarText(root.get("target", true)) === update.connector) {
    target = root;
  } else {
    const targets = root.get("targets", true);
    if (isSeq(targets)) {
      target = targets.items.find(
        (item): item is YAMLMap => isMap(item) && scalarText(item.get("connector", true)) === update.connector,
      );
      if (!target) {
        target = new YAMLMap();
        target.set("connector", update.connector);
        target.set("format", "fixed-width");
        targets.items.push(target);
        added = true;
      }
    }
  }
  if (!target) {
    throw new MappingWriteError(
      `${file} has no target for connector ${update.connector} and no targets: list to add one to`,
    );
  }
  target.set("fields", fieldMap(document, update.fields));
  for (const role of ["header", "trailer"] as const) {
    const list = update[role];
    if (list) target.set(role, fieldMap(document, list));
  }
  const text =
    extname(file).toLowerCase() === ".json" ? `${JSON.stringify(document.toJS(), null, 2)}\n` : document.toString();
  await writeFile(file, text);
  return { previous, added };
}

function fieldMap(document: Document, fields: TargetFields["fields"]): YAMLMap {
  const map = new YAMLMap();
  for (const field of fields) {
    const value = typeof field.spec === "string" ? new Scalar(field.spec) : document.createNode(field.spec);
    map.set(new Scalar(field.name), value);
  }
  return map;
}

function scalarText(node: unknown): string | undefined {
  return isScalar(node) && typeof node.value === "string" ? node.value : undefined;
}
