// Whether a connector's encoding can be used: any iconv-lite encoding, plus the EBCDIC code pages ESS adds.
import iconv from "iconv-lite";
import { registerEbcdicCodecs } from "../mapping/index.js";

export function isKnownEncoding(name: string): boolean {
  registerEbcdicCodecs();
  return iconv.encodingExists(name);
}
