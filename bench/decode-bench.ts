// Measures decoding throughput in-process: inserts and updates of a 10-column table (integers,
// numeric, text, timestamptz, bool, date, float, jsonb) as pgoutput payloads, and the same rows
// as wal2json lines, in typed rows per second.
import { pathToFileURL } from "node:url";
import { PgoutputDecoder } from "../src/source/pgoutput-decoder.js";
import { Wal2JsonDecoder } from "../src/source/wal2json-decoder.js";
import {
  beginFrame,
  type Cell,
  commitFrame,
  insertFrame,
  relationFrame,
  updateFrame,
} from "../test/source/pgoutput-frames.js";

const RELATION = 16500;
const ROWS = 300_000;
const WARMUP_ROWS = 50_000;

function rowCells(i: number): Cell[] {
  return [
    String(i),
    i % 3 === 0 ? "APPROVED" : "PENDING",
    `${i}.${String(i % 100).padStart(2, "0")}`,
    String(9_007_199_254_740_993n + BigInt(i)),
    `2024-05-04 12:${String(i % 60).padStart(2, "0")}:00.${String(i % 1_000_000).padStart(6, "0")}+00`,
    `permit application number ${i} for parcel ${i * 7}`,
    i % 2 === 0 ? "t" : "f",
    "2024-05-04",
    String(i / 7),
    `{"parcel": ${i}, "zone": "R-${i % 5}"}`,
  ];
}

const COLUMNS = [
  { name: "id", typeOid: 23, type: "integer", key: true },
  { name: "status", typeOid: 1043, type: "character varying(20)", typeMod: 24 },
  { name: "amount", typeOid: 1700, type: "numeric" },
  { name: "big", typeOid: 20, type: "bigint" },
  { name: "updated_at", typeOid: 1184, type: "timestamp with time zone" },
  { name: "note", typeOid: 25, type: "text" },
  { name: "flag", typeOid: 16, type: "boolean" },
  { name: "issued", typeOid: 1082, type: "date" },
  { name: "ratio", typeOid: 701, type: "double precision" },
  { name: "doc", typeOid: 3802, type: "jsonb" },
] as const;

// wal2json prints these types as bare JSON numbers or booleans.
const BARE = new Set<number>([23, 1700, 20, 701, 16]);

function frames(count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const cells = rowCells(i);
    out.push(i % 4 === 3 ? updateFrame(RELATION, cells) : insertFrame(RELATION, cells));
  }
  return out;
}

export async function measureDecode(): Promise<{ decode_rows_per_s: number }> {
  const decoder = new PgoutputDecoder();
  decoder.decode(relationFrame(RELATION, "public", "permits", COLUMNS));
  decoder.decode(beginFrame(1n, 0n, 1));
  const rate = rowsPerSecond((payload) => decoder.decode(payload), frames(10_000));
  decoder.decode(commitFrame(1n, 2n, 0n));
  return { decode_rows_per_s: rate };
}

export async function measureWal2JsonDecode(): Promise<{ wal2json_decode_rows_per_s: number }> {
  const decoder = new Wal2JsonDecoder();
  const lines: Buffer[] = [];
  for (let i = 0; i < 10_000; i++) {
    const cells = rowCells(i);
    const columns = COLUMNS.map((c, k) => {
      const text = cells[k] as string;
      const value = c.typeOid === 16 ? String(text === "t") : BARE.has(c.typeOid) ? text : JSON.stringify(text);
      return `{"name":"${c.name}","type":"${c.type}","typeoid":${c.typeOid},"value":${value}}`;
    });
    lines.push(
      Buffer.from(
        `{"action":"I","xid":730,"lsn":"0/15349E8","schema":"public","table":"permits","columns":[${columns.join(",")}],` +
          `"pk":[{"name":"id","type":"integer","typeoid":23}]}`,
      ),
    );
  }
  return { wal2json_decode_rows_per_s: rowsPerSecond((payload) => decoder.decode(payload), lines) };
}

// A pool of distinct payloads, cycled, so the measurement is decoding rather than building buffers.
function rowsPerSecond(decode: (payload: Buffer) => unknown, pool: readonly Buffer[]): number {
  let sink = 0;
  for (let i = 0; i < WARMUP_ROWS; i++) if (decode(pool[i % pool.length]!)) sink += 1;
  const started = process.hrtime.bigint();
  for (let i = 0; i < ROWS; i++) if (decode(pool[i % pool.length]!)) sink += 1;
  const elapsedNs = Number(process.hrtime.bigint() - started);
  if (sink !== ROWS + WARMUP_ROWS) throw new Error(`decoded ${sink} rows, expected ${ROWS + WARMUP_ROWS}`);
  return Math.round(ROWS / (elapsedNs / 1e9));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify({ ...(await measureDecode()), ...(await measureWal2JsonDecode()) }));
}
