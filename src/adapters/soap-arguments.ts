// A record's fields as SOAP operation arguments that can only ever become text content of the
// elements the WSDL defines: node-soap writes a `$xml` value as raw XML and an object as child
// elements, so nested values are passed as their JSON text, reserved keys and fields the WSDL
// does not define are refused, and so is text XML 1.0 cannot carry.
import { AdapterError } from "./adapter.js";

export type SoapArgument = string | number | boolean | null;

/** Keys node-soap interprets instead of writing as elements. */
const RESERVED_KEY = /^\$|^attributes$/;
/** Characters XML 1.0 does not allow, even escaped (controls other than tab/LF/CR, lone surrogates, U+FFFE/U+FFFF). */
const NOT_XML_TEXT =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters XML 1.0 excludes.
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Element names of the operation's input, when the WSDL describes them (node-soap's describe()). */
export function inputElements(description: unknown, operation: string): ReadonlySet<string> | undefined {
  if (!description || typeof description !== "object") return undefined;
  for (const service of Object.values(description as Record<string, unknown>)) {
    for (const port of Object.values((service ?? {}) as Record<string, unknown>)) {
      const op = (port as Record<string, unknown> | undefined)?.[operation] as { input?: unknown } | undefined;
      const input = op?.input;
      if (input && typeof input === "object") {
        return new Set(Object.keys(input).filter((k) => k !== "targetNSAlias" && k !== "targetNamespace"));
      }
    }
  }
  return undefined;
}

export function soapArguments(
  deliveryId: string,
  fields: Readonly<Record<string, unknown>>,
  allowed: ReadonlySet<string> | undefined,
): Record<string, SoapArgument> {
  const args: Record<string, SoapArgument> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (RESERVED_KEY.test(key)) throw refused(deliveryId, `field "${safeName(key)}" is a name node-soap reserves`);
    if (allowed && !allowed.has(key)) {
      throw refused(deliveryId, `field "${safeName(key)}" is not an element of the operation's input in the WSDL`);
    }
    const argument =
      value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean"
        ? value
        : JSON.stringify(value);
    if (typeof argument === "string" && NOT_XML_TEXT.test(argument)) {
      throw refused(deliveryId, `field "${safeName(key)}" holds a character XML 1.0 cannot carry`);
    }
    args[key] = argument ?? null;
  }
  return args;
}

function refused(deliveryId: string, reason: string): AdapterError {
  return new AdapterError(`delivery ${deliveryId}: ${reason}`, { failure: "permanent", reason: "bad_payload" });
}

function safeName(key: string): string {
  return key.replace(/[^\x20-\x7e]/g, "?").slice(0, 80);
}
