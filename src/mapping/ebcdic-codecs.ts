// Registers the EBCDIC code pages (cp037, cp500, cp1047, cp1140) into iconv-lite, which ships none of them.
import iconv from "iconv-lite";
import { CP037, CP500_PATCH, CP1047_PATCH, CP1140_PATCH, patchedTable } from "./ebcdic-tables.js";

/** Byte → Unicode code point of each EBCDIC code page, by its iconv-lite name. */
export const EBCDIC_TABLES: ReadonlyMap<string, readonly number[]> = new Map([
  ["cp037", CP037],
  ["cp500", patchedTable(CP037, CP500_PATCH)],
  ["cp1047", patchedTable(CP037, CP1047_PATCH)],
  ["cp1140", patchedTable(CP037, CP1140_PATCH)],
]);

// Names as iconv-lite canonicalises them (lower case, punctuation removed): IBM-037,
// IBM037, EBCDIC-CP-US, CCSID1140… all resolve.
const ALIASES: Readonly<Record<string, string>> = {
  ibm037: "cp037",
  ibm37: "cp037",
  cp37: "cp037",
  ccsid37: "cp037",
  ccsid037: "cp037",
  ebcdiccpus: "cp037",
  ebcdiccpca: "cp037",
  ebcdiccpnl: "cp037",
  ibm500: "cp500",
  ccsid500: "cp500",
  ebcdiccpbe: "cp500",
  ebcdiccpch: "cp500",
  ibm1047: "cp1047",
  ccsid1047: "cp1047",
  ibm1140: "cp1140",
  ccsid1140: "cp1140",
  ebcdicus37euro: "cp1140",
};

let registered = false;

/** Makes the EBCDIC code pages available to iconv-lite under their usual names; safe to call repeatedly. */
export function registerEbcdicCodecs(): void {
  if (registered) return;
  // iconv-lite loads its encoding list lazily, on the first codec lookup.
  iconv.getCodec("utf8");
  const encodings = iconv.encodings;
  if (!encodings) throw new Error("iconv-lite did not load its encoding list");
  for (const [name, table] of EBCDIC_TABLES) {
    encodings[name] = { type: "_sbcs", chars: String.fromCharCode(...table) };
  }
  for (const [alias, name] of Object.entries(ALIASES)) encodings[alias] = name;
  registered = true;
}

/** The canonical EBCDIC code page name an encoding name refers to, if any. */
export function ebcdicCodePage(encoding: string): string | undefined {
  const canonical = iconv._canonicalizeEncoding(encoding);
  if (EBCDIC_TABLES.has(canonical)) return canonical;
  return ALIASES[canonical];
}
