// Reads values out of the SOAP headers and arguments the `soap` package hands a service (a partner's view).

/** The value at a path of nested elements, or undefined where the path ends. */
export function soapField(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    current = current && typeof current === "object" ? (current as Record<string, unknown>)[key] : undefined;
  }
  return current;
}

/** A header element's text: a plain string, or `$value` when the element carried attributes. */
export function soapText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  const inner = soapField(value, "$value");
  return typeof inner === "string" ? inner : undefined;
}
