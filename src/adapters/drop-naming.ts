// Renders drop file names from connector templates and refuses any name that could leave the drop directory.
//
// Data file templates ("file:") know three placeholders:
//   {date:<strftime>}  the batch's createdAt, in UTC unless the connector names its `timezone`
//                      (a resend re-renders the same name whatever the host's zone)
//   {batch}            the per-connector batch sequence, zero-padded to 6 digits ({batch:N} pads
//                      to N digits; a longer number is never truncated)
//   {connector}        the connector's name
// Done file templates ("doneFile:") know one: {file}, the data file's name.
// Anything else in braces, or a lone brace, is an error, so a typo never reaches a partner.
import { formatStrftime, StrftimeError } from "../mapping/strftime.js";

/** What a data file name is made of: the parts of a batch that never change across resends. */
export interface DropNameInput {
  readonly connector: string;
  readonly sequence: number;
  readonly createdAt: Date;
}

export interface DropNameErrorOptions {
  readonly template: string;
  readonly reason: string;
  /** The rendered name, when rendering got that far. */
  readonly fileName?: string | undefined;
}

/** A template that cannot be rendered, or a rendered name that is not a plain file name. */
export class DropNameError extends Error {
  override readonly name = "DropNameError";
  readonly template: string;
  readonly reason: string;
  readonly fileName: string | undefined;
  constructor({ template, reason, fileName }: DropNameErrorOptions) {
    super(
      fileName === undefined
        ? `file name template ${JSON.stringify(template)}: ${reason}`
        : `file name ${JSON.stringify(fileName)} (from template ${JSON.stringify(template)}): ${reason}`,
    );
    this.template = template;
    this.reason = reason;
    this.fileName = fileName;
  }
}

/** Default zero-padding of {batch}: six digits sort correctly up to a million batches. */
export const BATCH_DIGITS = 6;

/** Default zone of {date:…}: names must not depend on where ESS runs. */
export const NAME_TIMEZONE = "UTC";

type Part = { readonly kind: "text"; readonly text: string } | { readonly kind: "field"; readonly field: Field };

type Field =
  | { readonly name: "date"; readonly pattern: string }
  | { readonly name: "batch"; readonly digits: number }
  | { readonly name: "connector" }
  | { readonly name: "file" };

type TemplateKind = "file" | "done";

const ALLOWED: Readonly<Record<TemplateKind, readonly Field["name"][]>> = {
  file: ["date", "batch", "connector"],
  done: ["file"],
};

function parseField(template: string, body: string): Field {
  const colon = body.indexOf(":");
  const key = colon < 0 ? body : body.slice(0, colon);
  const arg = colon < 0 ? undefined : body.slice(colon + 1);
  switch (key) {
    case "date":
      if (!arg) throw new DropNameError({ template, reason: "{date:…} needs a strftime pattern, e.g. {date:%Y%m%d}" });
      return { name: "date", pattern: arg };
    case "batch": {
      if (arg === undefined) return { name: "batch", digits: BATCH_DIGITS };
      if (!/^\d{1,2}$/.test(arg) || Number(arg) < 1) {
        throw new DropNameError({ template, reason: `{batch:${arg}} needs a width from 1 to 99` });
      }
      return { name: "batch", digits: Number(arg) };
    }
    case "connector":
    case "file":
      if (arg !== undefined) throw new DropNameError({ template, reason: `{${key}} takes no argument` });
      return { name: key };
    default:
      throw new DropNameError({ template, reason: `unknown placeholder {${body}}` });
  }
}

function parseTemplate(template: string, kind: TemplateKind): Part[] {
  const parts: Part[] = [];
  let text = "";
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (ch === "}") throw new DropNameError({ template, reason: `unmatched "}" at position ${i}` });
    if (ch !== "{") {
      text += ch;
      continue;
    }
    const end = template.indexOf("}", i + 1);
    if (end < 0) throw new DropNameError({ template, reason: `unmatched "{" at position ${i}` });
    const field = parseField(template, template.slice(i + 1, end));
    if (!ALLOWED[kind].includes(field.name)) {
      const allowed = ALLOWED[kind].map((name) => `{${name}}`).join(", ");
      throw new DropNameError({ template, reason: `{${field.name}} cannot be used here (allowed: ${allowed})` });
    }
    if (text) parts.push({ kind: "text", text });
    text = "";
    parts.push({ kind: "field", field });
    i = end;
  }
  if (text) parts.push({ kind: "text", text });
  if (parts.length === 0) throw new DropNameError({ template, reason: "the template is empty" });
  return parts;
}

function renderField(
  template: string,
  field: Field,
  input: DropNameInput | undefined,
  file: string | undefined,
  zone: string = NAME_TIMEZONE,
): string {
  switch (field.name) {
    case "date":
      try {
        return formatStrftime(input!.createdAt, field.pattern, zone);
      } catch (error) {
        if (error instanceof StrftimeError) throw new DropNameError({ template, reason: error.message });
        throw error;
      }
    case "batch":
      if (!Number.isSafeInteger(input!.sequence) || input!.sequence < 0) {
        throw new DropNameError({
          template,
          reason: `batch sequence ${input!.sequence} is not a non-negative integer`,
        });
      }
      return String(input!.sequence).padStart(field.digits, "0");
    case "connector":
      return input!.connector;
    case "file":
      return file!;
  }
}

/**
 * Throws DropNameError unless `name` is a plain file name inside the drop directory: not empty,
 * not "." or "..", and free of "/", "\" (a separator on Windows SFTP servers), NUL and other
 * control characters. A name that merely contains ".." (e.g. "a..b") stays inside the directory
 * and is allowed.
 */
export function assertSafeFileName(name: string, template: string = name): string {
  if (name === "") throw new DropNameError({ template, reason: "the name is empty", fileName: name });
  if (name === "." || name === "..")
    throw new DropNameError({ template, reason: "the name would leave the directory", fileName: name });
  if (name.includes("/") || name.includes("\\")) {
    throw new DropNameError({ template, reason: "the name contains a path separator", fileName: name });
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new DropNameError({ template, reason: "the name contains NUL or another control character", fileName: name });
  }
  return name;
}

/** The data file name of a batch; throws DropNameError for a bad template or an unsafe result. */
export function renderDropName(template: string, input: DropNameInput, zone: string = NAME_TIMEZONE): string {
  let name = "";
  for (const part of parseTemplate(template, "file")) {
    name += part.kind === "text" ? part.text : renderField(template, part.field, input, undefined, zone);
  }
  return assertSafeFileName(name, template);
}

/** The done (trigger) file name for a data file; it may not be the data file's own name. */
export function renderDoneName(template: string, file: string): string {
  let name = "";
  for (const part of parseTemplate(template, "done")) {
    name += part.kind === "text" ? part.text : renderField(template, part.field, undefined, file);
  }
  assertSafeFileName(name, template);
  if (name === file)
    throw new DropNameError({ template, reason: "the done file would replace the data file", fileName: name });
  return name;
}

/** Every name one batch of a drop touches. */
export interface DropFileNames {
  readonly file: string;
  /** The upload name, renamed into `file` when complete; undefined without a temp suffix. */
  readonly temp?: string;
  readonly done?: string;
  readonly doneTemp?: string;
}

/**
 * The names a batch writes for a data file name: the temporary upload names and the done file.
 * Refuses combinations a reader could confuse, e.g. a temp suffix that makes the data upload look
 * like the done file.
 */
export function dropFileNames(
  options: { readonly tempSuffix: string; readonly doneFile?: string | undefined },
  file: string,
): DropFileNames {
  assertSafeFileName(file);
  const suffix = options.tempSuffix;
  const temp = suffix ? assertSafeFileName(file + suffix, `{file}${suffix}`) : undefined;
  if (options.doneFile === undefined) return { file, temp };
  const done = renderDoneName(options.doneFile, file);
  const doneTemp = suffix ? assertSafeFileName(done + suffix, `${options.doneFile}${suffix}`) : undefined;
  if (done === temp || doneTemp === file) {
    throw new DropNameError({
      template: options.doneFile,
      reason: `the done file and the temporary suffix ${JSON.stringify(suffix)} collide`,
      fileName: done,
    });
  }
  return { file, temp, done, doneTemp };
}

/** Validates a connector's drop options as a whole (templates and temp suffix) before ESS starts. */
export function checkDropOptions(options: {
  readonly file: string;
  readonly tempSuffix: string;
  readonly doneFile?: string | undefined;
}): void {
  const file = renderDropName(options.file, { connector: "connector", sequence: 1, createdAt: new Date(0) });
  dropFileNames(options, file);
}
