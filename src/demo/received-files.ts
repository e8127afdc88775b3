// Reads what a drop partner received (data files and their trigger files) and shows it readably:
// text in the connector's encoding decoded (EBCDIC included), fixed-length binary records in hex too.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { textCodec } from "../mapping/index.js";

export interface DropLayout {
  /** The connector's encoding (cp037 for the mainframes). */
  readonly encoding: string;
  /** Record length in bytes when records have no terminator (RECFM=F); text lines otherwise. */
  readonly fixedRecordLength?: number;
}

export interface ReceivedFile {
  readonly name: string;
  readonly bytes: number;
  /** A trigger file written after the data file (doneFile). */
  readonly trigger: boolean;
  /** The file's records, decoded for display. */
  readonly lines: readonly string[];
}

/** Every file in `dir`, by name. */
export async function readReceivedFiles(dir: string, layout: DropLayout): Promise<ReceivedFile[]> {
  const names = (await readdir(dir)).sort();
  const codec = textCodec(layout.encoding, "substitute");
  const files: ReceivedFile[] = [];
  for (const name of names) {
    const body = await readFile(join(dir, name));
    // A trigger file ("{file}.done") is written by ESS in plain text, not in the records' encoding.
    if (names.some((data) => data !== name && name.startsWith(data))) {
      files.push({ name, bytes: body.length, trigger: true, lines: textLines(body.toString("utf8")) });
      continue;
    }
    const lines = layout.fixedRecordLength
      ? fixedRecords(body, layout.fixedRecordLength).flatMap((record) => [
          printable(codec.decode(record)),
          `  hex ${record.toString("hex")}`,
        ])
      : textLines(codec.decode(body));
    files.push({ name, bytes: body.length, trigger: false, lines });
  }
  return files;
}

function textLines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line !== "");
}

function fixedRecords(body: Buffer, length: number): Buffer[] {
  const records: Buffer[] = [];
  for (let at = 0; at < body.length; at += length) records.push(body.subarray(at, at + length));
  return records;
}

/** Binary fields (COMP-3 packed decimals) decode to control characters: show them as dots. */
function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, ".");
}
