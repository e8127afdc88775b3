// A delivery through each one-line recipe, written as partners write them (only the addresses point
// at this test's own peers): append_csv with {{date}} in a path, type/wsdl/operation at the top,
// transform: drop_fields, rotate and every at the top, and CSV over REST.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { batchIdempotencyKey } from "../../src/adapters/rest-adapter.js";
import { formatStrftime } from "../../src/mapping/strftime.js";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite } from "../support/ess-site.js";
import { startHttpServer, type TestHttpServer } from "../support/http-server.js";
import { startSoapServer, type TestSoapServer } from "../support/soap-server.js";
import { deliveriesOf } from "./ledger-watch.js";
import { type RunningEngine, runEngine } from "./running-engine.js";

const WSDL = fileURLToPath(new URL("../fixtures/soap/court-docket.wsdl", import.meta.url));

describe("the seeds' recipes deliver as written", () => {
  let site: EssSite;
  let payroll: TestHttpServer;
  let court: TestSoapServer;
  let engine: RunningEngine | undefined;

  beforeAll(async () => {
    payroll = await startHttpServer(() => ({ status: 200, body: "imported" }));
    court = await startSoapServer({
      wsdlFile: WSDL,
      service: "DocketService",
      port: "DocketPort",
      operation: "UpdateCase",
      path: "/docket",
      handler: (call, index) => ({ Receipt: `CASE-${String(call.args.CaseId)}-${index}` }),
    });
    site = await createSite("partners-recipes", ({ dropDir }) => ({
      connectors: {
        permits_csv: [
          "name: permits_csv",
          "type: file",
          "mode: append_csv",
          `file: ${dropDir}/permits_{{date}}.csv`,
          "",
        ].join("\n"),
        court_docket: [
          "name: court_docket",
          "type: soap",
          // The recipe's `wsdl: https://court.gov/docket.wsdl`, fetched from this test's court.
          `wsdl: ${court.wsdlUrl}`,
          `endpoint: ${court.url}`,
          "operation: UpdateCase",
          "",
        ].join("\n"),
        redacted: [
          "name: redacted",
          "adapter: file",
          `file: { dir: ${dropDir}, file: "redacted_{batch}.json" }`,
          'transform: drop_fields ["applicant_ssn"]',
          "rotate: 7d",
          "schedule: every 60s",
          "",
        ].join("\n"),
        payroll_rest: ["name: payroll_rest", "type: rest", `url: ${payroll.url}/api/import`, "format: csv", ""].join(
          "\n",
        ),
      },
      mappings: {
        permit_fees: [
          "name: permit_fees",
          "source: { table: public.permits }",
          "target: permits_csv",
          "fields: { permit_id: id, amount: amount | number:2 }",
          "",
        ].join("\n"),
        permit_payroll: [
          "name: permit_payroll",
          "source: { table: public.permits }",
          "target: payroll_rest",
          "fields: { permit_id: id, amount: amount | number:2 }",
          "",
        ].join("\n"),
        permit_redacted: [
          "name: permit_redacted",
          "source: { table: public.permits }",
          "target: redacted",
          "format: json",
          "fields: { permit_id: id, applicant_ssn: applicant_ssn }",
          "",
        ].join("\n"),
        permit_court: [
          "name: permit_court",
          "source: { table: public.permits }",
          "target: court_docket",
          "format: soap",
          "fields: { CaseId: id, Status: status }",
          "",
        ].join("\n"),
      },
    }));
    engine = await runEngine(await site.load());
  });

  afterAll(async () => {
    await engine?.stop();
    await payroll?.stop();
    await court?.stop();
    await site?.cleanup();
  });

  it("each connector delivers what its recipe says", async () => {
    await site.db.query(
      "insert into permits (id, status, amount, applicant_ssn) values ('BP-1', 'APPROVED', 12.5, '123-45-6789'), ('BP-2', 'APPROVED', 7, '987-65-4321')",
    );
    await waitFor("every delivery sent", async () => {
      const all = await Promise.all(
        ["permits_csv", "court_docket", "redacted", "payroll_rest"].map((c) => deliveriesOf(site.db, c)),
      );
      return all.every((list) => list.length === 2 && list.every((d) => d.state === "sent"));
    });

    // mode: append_csv, file: <dir>/permits_{{date}}.csv → one CSV appended in the drop directory.
    const today = formatStrftime(new Date(), "%Y%m%d", engineZone());
    const csv = await readFile(join(site.dropDir, `permits_${today}.csv`), "utf8");
    expect(csv).toBe("permit_id,amount\r\nBP-1,12.50\r\nBP-2,7.00\r\n");

    // transform: drop_fields → the SSN never leaves.
    const names = await readdir(site.dropDir);
    const redacted = names.filter((n) => n.startsWith("redacted_"));
    expect(redacted.length).toBeGreaterThan(0);
    const records = (await Promise.all(redacted.map((n) => readFile(join(site.dropDir, n), "utf8")))).join("");
    expect(records).toContain('"permit_id":"BP-1"');
    expect(records).not.toContain("6789");
    expect(records).not.toContain("applicant_ssn");

    // type: soap with wsdl/operation at the top → one UpdateCase call per change.
    expect(court.calls.map((c) => `${String(c.args.CaseId)}:${String(c.args.Status)}`).sort()).toEqual([
      "BP-1:APPROVED",
      "BP-2:APPROVED",
    ]);

    // CSV via REST: one text/csv body per batch with a batch idempotency key.
    const posts = payroll.requests.filter((r) => r.method === "POST");
    expect(posts.length).toBeGreaterThan(0);
    expect(posts.map((p) => p.headers["content-type"])).toEqual(posts.map(() => "text/csv; charset=utf-8"));
    const rows = posts.flatMap((p) => p.body.split("\r\n").filter((l) => l !== "" && l !== "permit_id,amount"));
    expect(rows.sort()).toEqual(["BP-1,12.50", "BP-2,7.00"]);
    const sent = await deliveriesOf(site.db, "payroll_rest");
    if (posts.length === 1) {
      expect(posts[0]?.headers["idempotency-key"]).toBe(batchIdempotencyKey(sent.map((d) => d.token)));
    }
  });
});

/** The zone {{date}} is rendered in: ess.yaml's timezone, unset here, so the server's. */
function engineZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
