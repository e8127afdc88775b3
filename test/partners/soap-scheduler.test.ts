// The county scheduler through the whole engine: application events become SOAP Reschedule calls on a soap.listen server.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../support/capture-fixture.js";
import { createSite, type EssSite } from "../support/ess-site.js";
import { type ReceivedSoapCall, soapFault, startSoapServer, type TestSoapServer } from "../support/soap-server.js";
import { emitEvent } from "./application-events.js";
import { auditOf, deliveriesOf, type LedgerDelivery } from "./ledger-watch.js";
import { type RunningEngine, runEngine } from "./running-engine.js";
import { writeConnector, writeMapping, writeSecretFile } from "./site-files.js";

const WSDL = fileURLToPath(new URL("../../connectors/county_scheduler.wsdl", import.meta.url));
const SHIPPED_MAPPING = fileURLToPath(new URL("../../mappings/visit_reschedule.yaml", import.meta.url));
const CONNECTOR = "county_scheduler";
const USER = "ess-county";
const PASSWORD = "c0unty<&>Pa55";

const day = (call: ReceivedSoapCall): string => (call.args.new_date as Date).toISOString().slice(0, 10);

describe("the county scheduler over SOAP, fed by application events", () => {
  let county: TestSoapServer;
  let site: EssSite;
  let engine: RunningEngine | undefined;
  let schedulerDown = true;

  beforeAll(async () => {
    county = await startSoapServer({
      wsdlFile: WSDL,
      service: "SchedulerService",
      port: "SchedulerPort",
      operation: "Reschedule",
      handler: (call, index) => {
        if (call.args.family === "Z-UNKNOWN") throw soapFault("Client", "unknown family Z-UNKNOWN");
        if (call.args.family === "B300" && schedulerDown) throw soapFault("Server", "scheduler database offline");
        return { confirmation_id: `CONF-${String(call.args.family)}-${day(call)}-${index}`, status: "RESCHEDULED" };
      },
    });
    site = await createSite("partners-soap", () => ({ connectors: {}, mappings: {} }));
    // The shipped mapping, verbatim: topic "reschedule" → Reschedule(family, new_date).
    await writeMapping(site, "visit_reschedule", await readFile(SHIPPED_MAPPING, "utf8"));
    const passwordFile = await writeSecretFile(site, "county_pass", PASSWORD);
    await writeConnector(
      site,
      CONNECTOR,
      [
        `name: ${CONNECTOR}`,
        "adapter: soap",
        "soap:",
        `  wsdl: ${WSDL}`,
        `  endpoint: ${county.url}`,
        "  operation: Reschedule",
        `  security: { username: ${USER}, password: \${file:${passwordFile}} }`,
        "  timeout: 5s",
        "batch: { maxRecords: 10, maxWait: 50ms }",
        "retry: { maxAttempts: 8, initialDelay: 200ms, maxDelay: 400ms }",
        "heartbeat: { every: 500ms, offlineAfter: 3 }",
        "",
      ].join("\n"),
    );
    engine = await runEngine(await site.load());
  });

  afterAll(async () => {
    await engine?.stop();
    await county?.stop();
    await site?.cleanup();
  });

  it("calls Reschedule with the UsernameToken and the idempotency headers; a Client fault dead-letters, a Server fault retries until the scheduler recovers", async () => {
    await emitEvent(site.db.url, "reschedule", { family: "A100", new_date: "2024-05-04" });
    await emitEvent(site.db.url, "reschedule", { family: "R-ROLLED-BACK", new_date: "2024-05-04" }, { rollback: true });
    await emitEvent(site.db.url, "reschedule", { family: "Z-UNKNOWN", new_date: "2024-05-05" });
    await emitEvent(site.db.url, "reschedule", { family: "B300", new_date: "2024-06-01" });
    await emitEvent(site.db.url, "reschedule", { family: "B300", new_date: "2024-06-02" });
    await emitEvent(site.db.url, "reschedule", { family: "A200", new_date: "2024-05-06" });

    const byFamily = async (family: string): Promise<LedgerDelivery[]> =>
      (await deliveriesOf(site.db, CONNECTOR)).filter((d) => d.orderingKey === family);
    const callsOf = (family: string) => county.calls.filter((c) => c.args.family === family);

    // The scheduler is down for B300: its first change is retried, its second waits behind it.
    await waitFor("B300 to wait for its third attempt", async () => {
      const [first] = await byFamily("B300");
      return first?.state === "retrying" && first.attempts >= 2;
    });
    const [, waiting] = await byFamily("B300");
    expect(callsOf("B300").length).toBeGreaterThanOrEqual(2);
    // Never attempted: left behind in its batch, or not yet claimed.
    expect(["pending", "retrying"]).toContain(waiting?.state);
    expect(waiting?.attempts).toBe(0);
    expect(callsOf("B300").every((c) => day(c) === "2024-06-01")).toBe(true);

    // A Client fault is a dead letter at once, with its reason.
    const [unknown] = await byFamily("Z-UNKNOWN");
    expect(unknown).toMatchObject({ state: "dead", attempts: 1 });
    expect(unknown?.lastError).toMatch(/soap:Client: unknown family Z-UNKNOWN/);
    expect(callsOf("Z-UNKNOWN")).toHaveLength(1);
    const dead = (await auditOf(site.db, CONNECTOR, "dead")).filter((h) => h.deliveryId === unknown?.id);
    expect(dead.map((h) => h.detail?.reason)).toEqual(["soap_client_fault"]);

    schedulerDown = false;
    await waitFor("every delivery settled", async () => {
      const all = await deliveriesOf(site.db, CONNECTOR);
      return all.length === 5 && all.every((d) => d.state === "sent" || d.state === "dead");
    });
    const all = await deliveriesOf(site.db, CONNECTOR);
    expect(all.map((d) => [d.orderingKey, d.state])).toEqual([
      ["A100", "sent"],
      ["Z-UNKNOWN", "dead"],
      ["B300", "sent"],
      ["B300", "sent"],
      ["A200", "sent"],
    ]);
    // The rolled-back event never existed for the partner.
    expect(callsOf("R-ROLLED-BACK")).toEqual([]);

    // Every call carries WS-Security (PasswordText) and the delivery's own token and correlation id.
    for (const delivery of all) {
      const calls = county.calls.filter((c) => c.token === delivery.token);
      expect(calls.length).toBeGreaterThanOrEqual(1);
      for (const call of calls) {
        expect(call.args.family).toBe(delivery.orderingKey);
        expect(call.correlationId).toBe(delivery.correlationId);
        expect(call).toMatchObject({ username: USER, password: PASSWORD });
        expect(call.passwordType).toMatch(/#PasswordText$/);
      }
    }
    expect(callsOf("A100").map(day)).toEqual(["2024-05-04"]);
    expect(all[0]?.partnerReference).toMatch(/^CONF-A100-2024-05-04-/);

    // B300: retried under one token until accepted, then its second change, in order.
    const b300 = callsOf("B300");
    expect(new Set(b300.filter((c) => day(c) === "2024-06-01").map((c) => c.token))).toEqual(new Set([all[2]?.token]));
    expect(b300.map(day).lastIndexOf("2024-06-01")).toBeLessThan(b300.map(day).indexOf("2024-06-02"));
    expect(b300.filter((c) => day(c) === "2024-06-02")).toHaveLength(1);
    const retries = (await auditOf(site.db, CONNECTOR, "failed")).filter((h) => h.deliveryId === all[2]?.id);
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(new Set(retries.map((h) => h.detail?.reason))).toEqual(new Set(["soap_server_fault"]));

    // The WS-Security password is nowhere in the ledger.
    const text = await site.db.query<{ text: string }>(
      `select coalesce(string_agg(concat_ws(' ', error, detail::text), ' '), '') ||
              (select coalesce(string_agg(concat_ws(' ', last_error, partner_reference), ' '), '') from ess.deliveries) as text
         from ess.audit`,
    );
    expect(text.rows[0]?.text).not.toContain(PASSWORD);
  });
});
