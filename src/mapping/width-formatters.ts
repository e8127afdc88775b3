// The formatters that give a field its width: width:N, lpad:N[,c], rpad:N[,c] (and the final fit of fixed-width fields).
import { type FormatterCall, removeEscapes, splitUnescaped } from "./expression.js";
import {
  type CompiledFormatter,
  cellText,
  FormatterConfigError,
  type FormatterScope,
  fail,
  integerArgument,
  MAX_WIDTH,
  requireArgument,
  type Step,
} from "./formatter.js";
import { type FitSpec, fitText } from "./text-fit.js";

/** width:N: left-justified, space-padded. */
export function compileWidth(call: FormatterCall, scope: FormatterScope): CompiledFormatter {
  const expected = `width:N (N from 1 to ${MAX_WIDTH})`;
  const size = integerArgument(call, requireArgument(call, expected), 1, MAX_WIDTH, expected);
  const fit: FitSpec = { size, align: "left", pad: " " };
  return { name: call.name, step: fitStep(fit, scope), fit, protects: false, drops: false };
}

function padCharacter(call: FormatterCall, text: string, scope: FormatterScope): string {
  const pad = removeEscapes(text);
  if (scope.measure.length(pad) !== 1 || [...pad].length !== 1) {
    throw new FormatterConfigError(
      `${call.name}: pad ${JSON.stringify(pad)} is not a single-${scope.measure.unit === "bytes" ? "byte" : "character"} character`,
      {
        expected: `one pad character that takes one ${scope.measure.unit === "bytes" ? "byte" : "character"}`,
        found: JSON.stringify(pad),
      },
    );
  }
  return pad;
}

/** A step that fits text to a width; NULL becomes all pad. */
export function fitStep(fit: FitSpec, scope: FormatterScope): Step {
  return (cell) => {
    const text = cell === null ? "" : cellText(cell);
    const fitted = fitText(text, fit, scope.measure, scope.truncate);
    if (typeof fitted === "string") return fitted;
    return fail(scope, fitted.failure, cell);
  };
}

/** lpad:N[,c] (right-aligned) and rpad:N[,c] (left-aligned); c defaults to a space. */
export function compilePad(call: FormatterCall, scope: FormatterScope): CompiledFormatter {
  const expected = `${call.name}:N or ${call.name}:N,c (N from 1 to ${MAX_WIDTH}, c one character)`;
  const [size, pad] = splitUnescaped(requireArgument(call, expected), ",", 2);
  const fit: FitSpec = {
    size: integerArgument(call, size!.trim(), 1, MAX_WIDTH, expected),
    align: call.name === "lpad" ? "right" : "left",
    pad: pad === undefined ? " " : padCharacter(call, unquoteOne(pad), scope),
  };
  return { name: call.name, step: fitStep(fit, scope), fit, protects: false, drops: false };
}

function unquoteOne(text: string): string {
  const m = /^(['"])(.+)\1$/s.exec(text.trim());
  return m ? m[2]! : text.trim() === "" ? text : text.trim();
}
