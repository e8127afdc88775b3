// Checks drop file name templates: "permit_{date:%Y%m%d}_{batch}.txt", doneFile "{file}.done".
import { compileStrftime, formatStrftime, StrftimeError } from "../mapping/index.js";

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

/** How many consecutive rotation periods are rendered to prove the name changes with each. */
const PERIODS_CHECKED = 400;

/**
 * An append file with `rotate:` starts a new file each period, named by the period's start: the
 * template's {date:…} must differ between any two consecutive periods (`%Y%m%d` for `1d` or
 * longer, `%Y%m%d%H` for hours). Undefined when it does; the reason otherwise.
 */
export function appendRotationProblem(template: string, rotateMs: number): string | undefined {
  const patterns = [...template.matchAll(PLACEHOLDER)]
    .map((match) => match[1] ?? "")
    .filter((body) => body.startsWith("date:"))
    .map((body) => body.slice("date:".length));
  if (patterns.length === 0) {
    return `${JSON.stringify(template)} has no {date:…}, so rotation could not start a new append file`;
  }
  // From a Monday midnight, as the adapters count periods; wall-clock times rendered in UTC.
  const anchor = Date.UTC(1970, 0, 5);
  let previous: string | undefined;
  for (let period = 0; period <= PERIODS_CHECKED; period++) {
    const start = new Date(anchor + period * rotateMs);
    const name = patterns.map((pattern) => formatStrftime(start, pattern, "UTC")).join("\u0000");
    if (name === previous) {
      return (
        `${JSON.stringify(template)} names two consecutive rotation periods alike, so the second would ` +
        "append to the first period's file"
      );
    }
    previous = name;
  }
  return undefined;
}
