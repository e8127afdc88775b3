// Each formatter of a field expression compiled once into a closure over its parsed argument (upper, width:10, pic:S9(7)V99, format:%Y%m%d…).
import { createHash, createHmac } from "node:crypto";
import { suggestion } from "../config/suggestion.js";
import { wallTimeOfValue } from "./date-value.js";
import { type FormatterCall, removeEscapes, splitUnescaped } from "./expression.js";
import {
  type CompiledFormatter,
  callText,
  cellText,
  FormatterConfigError,
  type FormatterScope,
  fail,
  integerArgument,
  MAX_WIDTH,
  noArgument,
  requireArgument,
  type Step,
} from "./formatter.js";
import { compileNumber, compilePicture } from "./numeric-formatters.js";
import { compileStrftime, STRFTIME_DIRECTIVES, StrftimeError } from "./strftime.js";
import type { FitSpec } from "./text-fit.js";
import { compilePad, compileWidth } from "./width-formatters.js";

export const FORMATTER_NAMES = [
  "format",
  "upper",
  "lower",
  "trim",
  "width",
  "lpad",
  "rpad",
  "number",
  "pic",
  "map",
  "default",
  "const",
  "mask",
  "hash",
  "drop",
] as const;

function textStep(transform: (text: string) => string): Step {
  return (cell) => (cell === null ? null : transform(cellText(cell)));
}

function compileFormat(call: FormatterCall, scope: FormatterScope): CompiledFormatter {
  const pattern = removeEscapes(requireArgument(call, "a strftime pattern such as %Y%m%d"));
  let formatter: ReturnType<typeof compileStrftime>;
  try {
    formatter = compileStrftime(pattern);
  } catch (error) {
    if (!(error instanceof StrftimeError)) throw error;
    throw new FormatterConfigError(error.message, {
      expected: `strftime directives (${STRFTIME_DIRECTIVES.join(" ")})`,
      found: error.directive,
    });
  }
  const format: Step = (cell) => {
    if (cell === null) return null;
    const wall = wallTimeOfValue(cell, scope.zone, formatter.needsZone);
    if (typeof wall === "string") return fail(scope, `format:${pattern}: ${wall}`, cell);
    return formatter(wall);
  };
  const base = { name: call.name, protects: false, drops: false };
  if (formatter.directiveWidth === undefined) return { ...base, step: format };
  // A pattern of fixed-length directives (%Y%m%d) gives a fixed-width field its width; NULL
  // and years past 9999 are then fitted like any other width.
  const fit: FitSpec = {
    size: formatter.directiveWidth + scope.measure.length(formatter.literalText),
    align: "left",
    pad: " ",
  };
  return { ...base, step: format, fit, impliedFit: true };
}

function compileMap(call: FormatterCall, scope: FormatterScope): Step {
  const expected = "map:A=x,B=y (optionally *=z for any other value)";
  const entries = new Map<string, string>();
  let fallback: string | undefined;
  for (const entry of splitUnescaped(requireArgument(call, expected), ",")) {
    const pair = splitUnescaped(entry, "=", 2);
    if (pair.length !== 2) {
      throw new FormatterConfigError(`map: entry ${JSON.stringify(entry.trim())} has no '='`, {
        expected,
        found: entry,
      });
    }
    const rawKey = pair[0]!.trim();
    const key = removeEscapes(rawKey);
    const value = removeEscapes(pair[1]!.trim());
    if (rawKey === "*") {
      fallback = value;
    } else {
      if (entries.has(key)) {
        throw new FormatterConfigError(`map: key ${JSON.stringify(key)} appears twice`, {
          expected: "each key once",
          found: key,
        });
      }
      entries.set(key, value);
    }
  }
  const known = [...entries.keys()].join(", ");
  return (cell) => {
    if (cell === null) return null;
    const mapped = entries.get(cellText(cell));
    if (mapped !== undefined) return mapped;
    if (fallback !== undefined) return fallback;
    return fail(scope, `no map entry for this value (known: ${known}; add *=x for a default)`, cell);
  };
}

function compileMask(call: FormatterCall): Step {
  const keep =
    call.arg === undefined
      ? 4
      : integerArgument(call, call.arg, 0, MAX_WIDTH, "mask or mask:N (N characters left visible)");
  return textStep((text) => {
    const chars = [...text];
    const visible = chars.length > keep ? keep : 0;
    return "*".repeat(chars.length - visible) + chars.slice(chars.length - visible).join("");
  });
}

/** `hash` is HMAC-SHA256 with ess.yaml's hashKey; `hash:K` keys it with K; with neither it is a plain SHA-256. */
function compileHash(call: FormatterCall, scope: FormatterScope): Step {
  const key = call.arg === undefined ? scope.hashKey : removeEscapes(call.arg);
  if (key === undefined) return textStep((text) => createHash("sha256").update(text, "utf8").digest("hex"));
  return textStep((text) => createHmac("sha256", key).update(text, "utf8").digest("hex"));
}

/** Compiles one formatter call; throws FormatterConfigError. */
export function compileFormatter(call: FormatterCall, scope: FormatterScope): CompiledFormatter {
  const base = { name: call.name, protects: false, drops: false };
  switch (call.name) {
    case "format":
      return compileFormat(call, scope);
    case "upper":
      noArgument(call);
      return { ...base, step: textStep((t) => t.toUpperCase()) };
    case "lower":
      noArgument(call);
      return { ...base, step: textStep((t) => t.toLowerCase()) };
    case "trim":
      noArgument(call);
      return { ...base, step: textStep((t) => t.trim()) };
    case "width":
      return compileWidth(call, scope);
    case "lpad":
    case "rpad":
      return compilePad(call, scope);
    case "number":
      return { ...base, step: compileNumber(call, scope), numeric: true };
    case "pic":
      return compilePicture(call, scope);
    case "map":
      return { ...base, step: compileMap(call, scope) };
    case "default": {
      if (call.arg === undefined) {
        throw new FormatterConfigError("formatter default needs a value: default:X", {
          expected: "default:X",
          found: callText(call),
        });
      }
      const replacement = removeEscapes(call.arg);
      return { ...base, step: (cell) => (cell === null ? replacement : cell) };
    }
    case "const": {
      if (call.arg === undefined) {
        throw new FormatterConfigError("formatter const needs a value: const:X", {
          expected: "const:X",
          found: callText(call),
        });
      }
      const constant = removeEscapes(call.arg);
      return { ...base, step: () => constant };
    }
    case "mask":
      return { ...base, step: compileMask(call), protects: true };
    case "hash":
      // Only a key kept secret protects: a key written in the mapping file is no secret.
      return {
        ...base,
        step: compileHash(call, scope),
        protects: call.arg === undefined && scope.hashKey !== undefined,
      };
    case "drop":
      noArgument(call);
      return { ...base, protects: true, drops: true };
    default:
      throw new FormatterConfigError(
        `unknown formatter ${JSON.stringify(call.name)} (expected one of ${FORMATTER_NAMES.join(", ")})${suggestion(call.name, FORMATTER_NAMES)}`,
        { expected: `a formatter: ${FORMATTER_NAMES.join(", ")}`, found: call.name },
      );
  }
}
