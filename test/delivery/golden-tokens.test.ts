// Partners deduplicate on tokens they stored in earlier releases: these values are fixed. If one
// of them changes, every partner would apply resent changes again; an intended change of the
// derivation needs a new versioned scheme (a prefix other than "ess1-") that partners can tell apart.
import { describe, expect, it } from "vitest";
import { planBackfillRow } from "../../src/capture/backfill-planner.js";
import { DeliveryPlanner } from "../../src/capture/delivery-planner.js";
import { correlationIdFor, deliveryToken } from "../../src/delivery/token.js";
import { compileMapping } from "../../src/mapping/index.js";
import {
  connectorMap,
  mappingConfig,
  restConnector,
  sftpConnector,
  targetConfig,
} from "../mapping/mapping-builders.js";

describe("golden idempotency tokens", () => {
  it.each([
    {
      identity: { connector: "city_hall_cobol", mapping: "permit_status", targetIndex: 0, change: "0/1A2B3C/4" },
      token: "ess1-0a344a3476ef0f0c1e4af2bec16d1b2eeb53b0c3",
    },
    {
      identity: { connector: "vdot_gis", mapping: "permit_status", targetIndex: 1, change: "0/1A2B3C/4" },
      token: "ess1-c1b854df07b91f1d4120b225308df2f90eaab556",
    },
    {
      identity: { connector: "county_scheduler", mapping: "visit_reschedule", targetIndex: 0, change: "2A/FF000028/0" },
      token: "ess1-a949b5364daf0ec7b95b08101ab4057346bbbfbe",
    },
    {
      identity: {
        connector: "payroll_csv",
        mapping: "permit_fees",
        targetIndex: 0,
        change: "backfill:42:0123456789abcdef0123456789abcdef",
      },
      token: "ess1-c7e5b139526faeb7a176831de0bec51443b7b699",
    },
  ])("$identity.connector / $identity.change has its fixed token", ({ identity, token }) => {
    expect(deliveryToken(identity)).toBe(token);
  });

  it("correlation ids are fixed too", () => {
    expect(correlationIdFor("ess1-0a344a3476ef0f0c1e4af2bec16d1b2eeb53b0c3")).toBe("ess-0a344a3476ef0f0c1e4af2be");
  });

  const connectors = connectorMap(sftpConnector("city_hall_cobol", "cp037"), restConnector("vdot_gis"));
  const compiled = compileMapping(
    mappingConfig([
      targetConfig("city_hall_cobol", "fixed-width", { PERMIT_ID: "id | width:10", TOKEN: "_token | width:45" }),
      targetConfig(
        "vdot_gis",
        "json",
        { permit_id: "id", token: "_token", correlation: "_correlation_id" },
        { index: 1 },
      ),
    ]),
    connectors,
  );

  it("a captured change at a fixed commit position gets fixed tokens, and carries them in its records", () => {
    const mapping = compiled.mapping;
    expect(compiled.errors).toEqual([]);
    if (!mapping) return;
    const commitTime = new Date("2024-05-04T12:00:00Z");
    const planned = new DeliveryPlanner([mapping]).plan([
      {
        feed: {
          commitLsn: 0x1a2b3cn,
          ordinal: 4,
          xid: 777,
          commitTime,
          op: "update",
          tableSchema: "public",
          tableName: "permits",
          topic: null,
          keyJson: '{"id":"P-1"}',
          beforeJson: "null",
          afterJson: '{"id":"P-1"}',
        },
        op: "update",
        table: { schema: "public", name: "permits" },
        topic: null,
        row: { id: "P-1" },
      },
    ]);
    expect(planned.map((p) => [p.connector, p.token, p.correlationId])).toEqual([
      ["city_hall_cobol", "ess1-0a344a3476ef0f0c1e4af2bec16d1b2eeb53b0c3", "ess-0a344a3476ef0f0c1e4af2be"],
      ["vdot_gis", "ess1-c1b854df07b91f1d4120b225308df2f90eaab556", "ess-c1b854df07b91f1d4120b225"],
    ]);
    expect(JSON.parse(planned[1]?.payload?.toString("utf8") ?? "{}")).toEqual({
      permit_id: "P-1",
      token: "ess1-c1b854df07b91f1d4120b225308df2f90eaab556",
      correlation: "ess-c1b854df07b91f1d4120b225",
    });
  });

  it("a backfilled row in a fixed state gets a fixed token", () => {
    const mapping = compiled.mapping;
    if (!mapping) throw new Error("mapping did not compile");
    const candidate = planBackfillRow(
      mapping,
      { schema: "public", name: "permits" },
      { id: "P-1", status: "APPROVED" },
      new Date("2024-05-04T12:00:00Z"),
      ["id"],
    );
    expect(candidate?.deliveries.map((d) => d.token)).toEqual([
      "ess1-add405ad357aaabc878ad4879438d349c34a7c85",
      "ess1-cb87af1a05db65760503a15ababf0cea4e0949fe",
    ]);
  });
});
