// Fixed-width over SOAP: a connector with format fixed-width sends each batch as one call of a real
// soap.listen service, the drop file body base64-encoded in the WSDL's base64Binary element, with
// one idempotency key per batch (the same on a resend) and one verdict for the whole batch.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { batchIdempotencyKey } from "../../src/adapters/rest-adapter.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite } from "../support/ess-site.js";
import { soapFault, startSoapServer, type TestSoapServer } from "../support/soap-server.js";
import { deliveriesOf } from "./ledger-watch.js";
import { type RunningEngine, runEngine } from "./running-engine.js";

const WSDL = fileURLToPath(new URL("../fixtures/soap/court-docket.wsdl", import.meta.url));

/** Text in cp037 by glibc's iconv, an implementation independent of ESS's code pages. */
function cp037(text: string): Buffer {
  return execFileSync("iconv", ["-f", "UTF-8", "-t", "IBM037"], { input: Buffer.from(text, "utf8") });
}

describe("fixed-width batches over SOAP, one call per batch", () => {
  let site: EssSite;
  let court: TestSoapServer;
  let engine: RunningEngine | undefined;
  const received: Buffer[] = [];

  beforeAll(async () => {
    court = await startSoapServer({
      wsdlFile: WSDL,
      service: "DocketService",
      port: "DocketPort",
      operation: "SubmitDocket",
      path: "/soap/docket",
      handler: (call, index) => {
        const bytes = Buffer.from(String(call.args.Document), "base64");
        received.push(bytes);
        // The first call meets a busy court (retried); a docket with BP-9 in it is refused for good.
        if (index === 0) throw soapFault("Server", "docket busy");
        if (bytes.includes(cp037("BP-9"))) throw soapFault("Client", "case BP-9 is sealed");
        return { Receipt: `DOCKET-${index}` };
      },
    });
    site = await createSite("partners-soap-batch", () => ({
      connectors: {
        court_batch: [
          "name: court_batch",
          "adapter: soap",
          "soap:",
          `  wsdl: ${WSDL}`,
          `  endpoint: ${court.url}`,
          "  operation: SubmitDocket",
          "  attachment: Document",
          "  recordCount: RecordCount",
          "format: fixed-width",
          "encoding: cp037",
          "batch: { maxRecords: 50, maxWait: 300ms }",
          "retry: { maxAttempts: 5, initialDelay: 100ms, maxDelay: 200ms }",
          "",
        ].join("\n"),
      },
      mappings: {
        docket: [
          "name: docket",
          "source: { table: public.permits }",
          "target: court_batch",
          "fields:",
          "  CASE-ID: id | width:8",
          "  STATE: status | width:8",
          "  AMOUNT: amount | pic:S9(5)V99",
          "trailer:",
          "  TYPE: const:T | width:1",
          "  COUNT: _record_count | pic:9(4)",
          "",
        ].join("\n"),
      },
    }));
    engine = await runEngine(await site.load());
  });

  afterAll(async () => {
    await engine?.stop();
    await court?.stop();
    await site?.cleanup();
  });

  it("sends the batch body as the court receives it, retries it under the same key, and gives every record the batch's verdict", async () => {
    await site.db.query(
      "insert into permits (id, status, amount) values ('BP-1', 'APPROVED', 12.5), ('BP-2', 'DENIED', 7), ('BP-3', 'APPROVED', -3.25)",
    );
    await waitFor("the batch sent", async () => {
      const sent = await deliveriesOf(site.db, "court_batch");
      return sent.length === 3 && sent.every((d) => d.state === "sent");
    });
    expect(court.calls).toHaveLength(2);
    // Zoned decimal, the sign overpunched: 12.50 → 000125{, -3.25 → 000032N; CR LF is 0D 25.
    const expected = cp037(
      "BP-1    APPROVED000125{\r\nBP-2    DENIED  000070{\r\nBP-3    APPROVED000032N\r\nT0003\r\n",
    );
    expect(received[0]?.toString("hex")).toBe(expected.toString("hex"));
    expect(received[1]?.toString("hex")).toBe(expected.toString("hex"));
    const sent = await deliveriesOf(site.db, "court_batch");
    const key = batchIdempotencyKey(sent.map((d) => d.token));
    expect(court.calls.map((c) => [c.token, c.correlationId, String(c.args.RecordCount)])).toEqual([
      [key, key, "3"],
      [key, key, "3"],
    ]);
    expect(sent.map((d) => d.partnerReference)).toEqual(["DOCKET-1", "DOCKET-1", "DOCKET-1"]);

    // A refused docket: every record of it goes to the dead letters with the court's reason.
    await site.db.query(
      "insert into permits (id, status, amount) values ('BP-9', 'APPROVED', 1), ('BP-8', 'DENIED', 2)",
    );
    await waitFor("the refused batch dead", async () => {
      const all = await deliveriesOf(site.db, "court_batch");
      return all.length === 5 && all.slice(3).every((d) => d.state === "dead");
    });
    const dead = (await deliveriesOf(site.db, "court_batch")).slice(3);
    expect(dead.map((d) => d.lastError?.includes("case BP-9 is sealed"))).toEqual([true, true]);
    expect(court.calls).toHaveLength(3);
  });
});
