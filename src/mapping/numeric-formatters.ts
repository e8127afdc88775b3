// The numeric formatters: number:D and pic:<COBOL PICTURE>, exact decimals all the way.
import { formatFixed, toDecimal } from "./decimal.js";
import type { FormatterCall } from "./expression.js";
import {
  type CompiledFormatter,
  FormatterConfigError,
  type FormatterScope,
  fail,
  integerArgument,
  requireArgument,
  type Step,
} from "./formatter.js";
import {
  binaryBytes,
  PictureSyntaxError,
  packedBytes,
  parsePicture,
  pictureByteLength,
  SUPPORTED_PICTURES,
  zonedText,
} from "./pic.js";
import type { FitSpec } from "./text-fit.js";
import { type Cell, RawBytes } from "./value-text.js";
import { fitStep } from "./width-formatters.js";

/** number:D: fixed decimals from the exact decimal text, rounded half-up away from zero. */
export function compileNumber(call: FormatterCall, scope: FormatterScope): Step {
  const decimals = integerArgument(
    call,
    requireArgument(call, "number:D (D decimals, 0 to 30)"),
    0,
    30,
    "a number of decimals from 0 to 30",
  );
  return (cell) => {
    if (cell === null)
      return fail(scope, `NULL where number:${decimals} needs a number (add default:0 before it)`, cell);
    const d = toDecimal(cell);
    if (!d) return fail(scope, "not a finite decimal number", cell);
    return formatFixed(d, decimals);
  };
}

/** pic:<COBOL PICTURE>: alphanumeric, zoned, packed or binary. */
export function compilePicture(call: FormatterCall, scope: FormatterScope): CompiledFormatter {
  const text = requireArgument(call, `a COBOL picture: ${SUPPORTED_PICTURES}`);
  let picture: ReturnType<typeof parsePicture>;
  try {
    picture = parsePicture(text);
  } catch (error) {
    if (!(error instanceof PictureSyntaxError)) throw error;
    throw new FormatterConfigError(error.message, { expected: SUPPORTED_PICTURES, found: text });
  }
  const base = { name: call.name, protects: false, drops: false };
  if (picture.kind === "alphanumeric") {
    const fit: FitSpec = { size: picture.length, align: "left", pad: " " };
    return { ...base, step: fitStep(fit, scope), fit };
  }
  const p = picture;
  const number = (cell: Cell) => {
    if (cell === null) return fail(scope, `NULL where pic:${p.text} needs a number (add default:0 before it)`, cell);
    const d = toDecimal(cell);
    if (!d) return fail(scope, "not a finite decimal number", cell);
    return d;
  };
  if (p.usage === "display") {
    const fit: FitSpec = { size: pictureByteLength(p), align: "right", pad: "0" };
    const step: Step = (cell) => {
      const zoned = zonedText(p, number(cell), scope.truncate);
      return typeof zoned === "string" ? zoned : fail(scope, zoned.failure, cell);
    };
    return { ...base, step, fit, picture: p };
  }
  const render = p.usage === "packed" ? packedBytes : binaryBytes;
  const step: Step = (cell) => {
    const bytes = render(p, number(cell), scope.truncate);
    return Buffer.isBuffer(bytes) ? new RawBytes(bytes) : fail(scope, bytes.failure, cell);
  };
  return { ...base, step, bytes: pictureByteLength(p), picture: p };
}
