// Checks drop file name templates: "permit_{date:%Y%m%d}_{batch}.txt", doneFile "{file}.done".
import { compileStrftime, StrftimeError } from "../mapping/index.js";

const PLACEHOLDER = /\{([^{}]*)\}/g;

export type TemplateKind = "file" | "doneFile";

const ALLOWED: Readonly<Record<TemplateKind, readonly string[]>> = {
  file: ["{date:<strftime>}", "{batch}", "{connector}"],
  doneFile: ["{date:<strftime>}", "{batch}", "{connector}", "{file}"],
};

export function templatePlaceholdersText(kind: TemplateKind): string {
  return ALLOWED[kind].join(", ");
}

/** The reason the template is unusable, or undefined when it is fine. */
export function checkDropTemplate(template: string, kind: TemplateKind): string | undefined {
  if (/[/\\]/.test(template))
    return `${JSON.stringify(template)} must be a file name, not a path (set the directory in dir)`;
  if (/[{}]/.test(template.replace(PLACEHOLDER, ""))) return `${JSON.stringify(template)} has an unbalanced { or }`;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const body = match[1] ?? "";
    if (body.startsWith("date:")) {
      const reason = strftimeProblem(body.slice("date:".length));
      if (reason !== undefined) return reason;
      continue;
    }
    const allowed = ALLOWED[kind].filter((p) => !p.startsWith("{date"));
    if (!allowed.includes(`{${body}}`)) {
      return `unknown placeholder {${body}} in ${JSON.stringify(template)} (expected ${templatePlaceholdersText(kind)})`;
    }
  }
  return undefined;
}

function strftimeProblem(pattern: string): string | undefined {
  if (pattern === "") return "{date:} needs a strftime pattern, e.g. {date:%Y%m%d}";
  try {
    compileStrftime(pattern);
    return undefined;
  } catch (error) {
    if (error instanceof StrftimeError) return error.message;
    throw error;
  }
}
