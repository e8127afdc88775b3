// Arbitrary text through every way in (Gateway events, table rows of text, json, jsonb, bytea and
// text[], REST and SOAP partners' answers): the stream never stops, every change is delivered once
// or is a dead letter with its reason, and no SOAP body carries an element the WSDL does not define.
// Bounded: few runs of a few items. Replay a failure with ESS_FUZZ_SEED=<seed printed> (and ESS_FUZZ_PATH).
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EssEngine } from "../../src/engine.js";
import { type EventPayload, Gateway, InvalidEventError } from "../../src/index.js";
import { silentLogger } from "../../src/ops/logger.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite } from "../support/ess-site.js";
import { type Reply, startHttpServer, type TestHttpServer } from "../support/http-server.js";
import { gisRestConnector } from "../support/rest-connector.js";
import { startSoapServer, type TestSoapServer } from "../support/soap-server.js";

const COUNTY_WSDL = fileURLToPath(new URL("../../connectors/county_scheduler.wsdl", import.meta.url));
/** The Reschedule request's parts in the WSDL: nothing else may reach the partner. */
const RESCHEDULE_PARTS = new Set(["family", "new_date"]);

const FUZZ_TABLE = `
  create table public.fuzz_rows (id text primary key, t text, j json, jb jsonb, b bytea, arr text[]);
  alter publication ess_pub add table public.fuzz_rows;
`;

// Text an attacker or an unlucky application would send: NUL, lone surrogates, markup, JSON-looking
// keys node-soap treats specially, and (rarely) a megabyte.
const hostileText = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom("a\u0000b", "\ud800", "x\udc00y", "<injected>x</injected>", "]]>&lt;", "$xml"),
  },
  { weight: 1, arbitrary: fc.constantFrom("m".repeat(1 << 20), `${"n".repeat(1 << 20)}\u0000`) },
);

function nested(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { d: value };
  return value;
}

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileText },
  { weight: 2, arbitrary: hostileText.map((t) => ({ $xml: `<injected>${t}</injected>` })) },
  { weight: 2, arbitrary: hostileText.map((t) => ({ $attributes: { evil: t }, $value: t })) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 50, max: 1500 }), hostileText).map(([d, t]) => nested(d, t)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
);

/** REST answers a partner might give: the delivery is sent for 2xx whatever the body, dead for 400. */
const REST_ANSWERS: readonly Reply[] = [
  { status: 201, body: '{"id":"ack\u0000x"}' },
  { status: 201, body: '{"id":"ack\\u0000x\\ud800"}' },
  { status: 201, body: "<$xml>not json at all" },
  { status: 201, body: `{"id":"${"r".repeat(1 << 20)}"}` },
  { status: 201, body: `${"[".repeat(5000)}${"]".repeat(5000)}` },
  { status: 400, body: "bad \u0000 permit \ud800" },
  { status: 400, body: `{"errors":${JSON.stringify(nested(3000, "deep"))}}` },
];

type Path = "event" | "row" | "soap";
interface FuzzItem {
  readonly path: Path;
  readonly value: unknown;
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly answer: number;
}

const fuzzItem: fc.Arbitrary<FuzzItem> = fc.record({
  path: fc.constantFrom<Path>("event", "row", "soap"),
  value: hostileValue,
  text: hostileText,
  bytes: fc.uint8Array({ maxLength: 64 }),
  answer: fc.integer({ min: 0, max: REST_ANSWERS.length - 1 }),
});

/** Text PostgreSQL cannot hold: what makes a change poison for the ledger. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the characters looked for.
const UNSTORABLE = /\u0000|\\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// JSON.stringify writes a lone surrogate as an escape: that is poison too once read back.
const ESCAPED_LONE_SURROGATE = /\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}/i;
const isPoisonText = (text: string) => UNSTORABLE.test(text) || ESCAPED_LONE_SURROGATE.test(text);

describe("hostile input through every way in", () => {
  let site: EssSite;
  let engine: EssEngine;
  let rest: TestHttpServer;
  let county: TestSoapServer;
  let gateway: Gateway;
  /** The REST answer for each item, by its id (one record per request). */
  const answers = new Map<string, Reply>();

  beforeAll(async () => {
    rest = await startHttpServer((request) => {
      const id = /"id":"(fz-\d+-\d+)"/.exec(request.body)?.[1];
      return (id && answers.get(id)) || { status: 201, body: "{}" };
    });
    county = await startSoapServer({
      wsdlFile: COUNTY_WSDL,
      service: "SchedulerService",
      port: "SchedulerPort",
      operation: "Reschedule",
      // Hostile but well-formed answers: markup and JSON-looking text in the confirmation.
      handler: (_call, index) => ({ confirmation_id: `<b>$xml</b>&${index}`, status: "RESCHEDULED" }),
    });
    site = await createSite("hostile-fuzz", () => ({
      connectors: {
        gis: gisRestConnector(rest.url, {
          batch: "{ maxRecords: 1, maxWait: 10ms }",
          retry: "{ maxAttempts: 2, initialDelay: 50ms, maxDelay: 100ms }",
        }),
        county_scheduler: [
          "name: county_scheduler",
          "adapter: soap",
          "soap:",
          `  wsdl: ${COUNTY_WSDL}`,
          `  endpoint: ${county.url}`,
          "  operation: Reschedule",
          "  timeout: 5s",
          "batch: { maxRecords: 10, maxWait: 10ms }",
          "retry: { maxAttempts: 2, initialDelay: 50ms, maxDelay: 100ms }",
          "",
        ].join("\n"),
      },
      mappings: {
        fuzz_events: [
          "name: fuzz_events",
          "source: { topic: fuzz.event, key: [id] }",
          "targets:",
          "  - connector: gis",
          "    format: json",
          "    fields: { id: id, value: value, text: text }",
          "",
        ].join("\n"),
        fuzz_rows: [
          "name: fuzz_rows",
          "source: { table: public.fuzz_rows }",
          "targets:",
          "  - connector: gis",
          "    format: json",
          "    fields: { id: id, t: t, j: j, jb: jb, b: b, arr: arr }",
          "",
        ].join("\n"),
        fuzz_soap: [
          "name: fuzz_soap",
          "source: { topic: fuzz.soap, key: [id] }",
          "targets:",
          "  - connector: county_scheduler",
          "    format: soap",
          "    fields: { family: family, new_date: new_date }",
          "",
        ].join("\n"),
      },
    }));
    await site.db.query(FUZZ_TABLE);
    engine = await EssEngine.create(await site.load(), { logger: silentLogger(), pollMs: 20 });
    void engine.start();
    gateway = new Gateway({ databaseUrl: site.db.url });
  });
  afterAll(async () => {
    await gateway?.close();
    await engine?.stop();
    await rest?.stop();
    await county?.stop();
    await site?.cleanup();
  });

  /** Puts one item in through its way; returns whether the ledger must refuse it (poison) as far as known. */
  async function send(id: string, item: FuzzItem): Promise<boolean | undefined> {
    if (item.path === "row") {
      const json = JSON.stringify(item.value) ?? "null";
      const columns: Array<[string, unknown]> = [
        ["t", item.text],
        ["j", json],
        ["jb", json],
        ["b", Buffer.from(item.bytes)],
        ["arr", [item.text, "plain"]],
      ];
      // The source itself refuses some values (NUL in text, \u0000 in jsonb): what it refuses
      // never becomes a change, so each column the source takes is kept and the rest left null.
      const kept: Array<[string, unknown]> = [];
      for (const column of columns) {
        const probe = await site.db
          .query(
            `select $1::${column[0] === "b" ? "bytea" : column[0] === "arr" ? "text[]" : column[0] === "j" ? "json" : column[0] === "jb" ? "jsonb" : "text"} as v`,
            [column[1]],
          )
          .then(() => true)
          .catch(() => false);
        if (probe) kept.push(column);
      }
      const names = ["id", ...kept.map(([n]) => n)];
      const params = [id, ...kept.map(([, v]) => v)];
      await site.db.query(
        `insert into fuzz_rows (${names.join(", ")}) values (${params.map((_, i) => `$${i + 1}`).join(", ")})`,
        params,
      );
      return kept.some(([name]) => name === "j") && isPoisonText(json);
    }
    const payload =
      item.path === "event"
        ? { id, value: item.value, text: item.text }
        : { id, family: item.value, new_date: "2024-05-04" };
    try {
      await gateway.send({
        topic: item.path === "event" ? "fuzz.event" : "fuzz.soap",
        payload: payload as unknown as EventPayload,
      });
    } catch (error) {
      // Refused at the door with a typed error naming where (e.g. nested deeper than allowed):
      // the application knows at once, and there is no change to deliver.
      expect(error).toBeInstanceOf(InvalidEventError);
      return undefined;
    }
    // Poison at any depth: JSON text writes NUL and lone surrogates as escapes.
    return isPoisonText(JSON.stringify(item.path === "event" ? { value: item.value, text: item.text } : item.value));
  }

  it("never stops the stream, delivers every change once or dead-letters it with its reason, and keeps SOAP bodies to the WSDL", async () => {
    let run = 0;
    const seed = process.env.ESS_FUZZ_SEED ? Number(process.env.ESS_FUZZ_SEED) : undefined;
    await fc.assert(
      fc.asyncProperty(fc.array(fuzzItem, { minLength: 1, maxLength: 4 }), async (items) => {
        run++;
        const expected = new Map<string, { item: FuzzItem; poison: boolean }>();
        for (const [i, item] of items.entries()) {
          const id = `fz-${run}-${i}`;
          answers.set(id, REST_ANSWERS[item.answer] as Reply);
          const poison = await send(id, item);
          if (poison !== undefined) expected.set(id, { item, poison });
        }
        const ids = [...expected.keys()];
        if (ids.length === 0) return;
        await waitFor(
          `run ${run}: every change settled`,
          async () => {
            const r = await site.db.query<{ n: number }>(
              `select count(*)::int as n from ess.deliveries
                where substring(ordering_key from 'fz-[0-9]+-[0-9]+') = any($1) and state in ('sent', 'dead')`,
              [ids],
            );
            return r.rows[0]?.n === ids.length;
          },
          20_000,
        );
        const rows = await site.db.query<{
          key: string;
          state: string;
          last_error: string | null;
          token: string;
          n: number;
        }>(
          `select substring(ordering_key from 'fz-[0-9]+-[0-9]+') as key, min(state) as state,
                  min(last_error) as last_error, min(token) as token, count(*)::int as n
             from ess.deliveries where substring(ordering_key from 'fz-[0-9]+-[0-9]+') = any($1) group by 1`,
          [ids],
        );
        expect(rows.rows).toHaveLength(ids.length);
        for (const row of rows.rows) {
          const { item, poison } = expected.get(row.key) as { item: FuzzItem; poison: boolean };
          expect(row.n, row.key).toBe(1);
          if (row.state === "dead") {
            expect(row.last_error, row.key).toBeTruthy();
          }
          const refusedAnswer = item.path !== "soap" && (REST_ANSWERS[item.answer] as Reply).status >= 400;
          if (poison) {
            expect(row.state, row.key).toBe("dead");
            expect(row.last_error, row.key).toMatch(/NUL|surrogate/);
          } else if (refusedAnswer) {
            expect(row.state, row.key).toBe("dead");
            expect(row.last_error, row.key).toMatch(/HTTP 400/);
          } else if (item.path !== "soap") {
            expect(row.state, `${row.key}: ${row.last_error}`).toBe("sent");
          }
          if (row.state === "sent" && item.path !== "soap") {
            // Sent means received by the partner once, under the change's own token (every answer
            // here is final, so nothing is ever resent).
            const received = rest.requests.filter((r) => r.body.includes(`"id":"${row.key}"`));
            expect(
              received.map((r) => r.headers["idempotency-key"]),
              row.key,
            ).toEqual([row.token]);
          }
        }
        // No element the WSDL does not define, and no markup smuggled into a part.
        for (const call of county.calls) {
          for (const [part, value] of Object.entries(call.args)) {
            expect(RESCHEDULE_PARTS.has(part), part).toBe(true);
            expect(value === null || typeof value !== "object" || value instanceof Date, part).toBe(true);
          }
        }
        expect(engine.captureStatus()?.connected).toBe(true);
      }),
      { numRuns: 20, ...(seed !== undefined ? { seed, path: process.env.ESS_FUZZ_PATH } : {}), endOnFailure: true },
    );
  }, 240_000);
});
