// A captured change keeps its row (for the mappings) only when some mapping reads its table.
import { describe, expect, it } from "vitest";
import { DeliveryPlanner } from "../../src/capture/delivery-planner.js";
import { rowChangeToCaptured } from "../../src/capture/feed-rows.js";
import type { RowChangeMessage } from "../../src/change/change.js";
import { compileMapping } from "../../src/mapping/index.js";
import { connectorMap, mappingConfig, restConnector, targetConfig } from "../mapping/mapping-builders.js";

const permits = { schema: "public", name: "permits" };
const hearings = { schema: "public", name: "hearings" };

function insertInto(table: RowChangeMessage["table"]): RowChangeMessage {
  const row = { id: "P-1", status: "APPROVED" };
  return { kind: "row", op: "insert", table, columns: [], key: { id: "P-1" }, before: null, after: row };
}

const txn = () => ({
  begin: { kind: "begin" as const, xid: 7, commitLsn: 0x1a2b3cn, commitTime: new Date("2026-01-02T03:04:05Z") },
  nextOrdinal: 0,
});

describe("rows kept while a change waits for its flush", () => {
  it("the planner reads the rows of mapped tables only, and answers the same the second time", () => {
    const compiled = compileMapping(
      mappingConfig([targetConfig("county_rest", "json", { permit_id: "id" })]),
      connectorMap(restConnector("county_rest")),
    );
    expect(compiled.errors).toEqual([]);
    const planner = new DeliveryPlanner(compiled.mapping ? [compiled.mapping] : []);
    expect([planner.readsRowsOf(permits), planner.readsRowsOf(hearings)]).toEqual([true, false]);
    expect([planner.readsRowsOf(permits), planner.readsRowsOf(hearings)]).toEqual([true, false]);
    expect(new DeliveryPlanner([]).readsRowsOf(permits)).toBe(false);
  });

  it("a change keeps its row only when asked to; its feed row is the same either way", () => {
    const kept = rowChangeToCaptured(txn(), insertInto(permits), true);
    const dropped = rowChangeToCaptured(txn(), insertInto(permits), false);
    expect(kept.row).toEqual({ id: "P-1", status: "APPROVED" });
    expect(dropped.row).toBeNull();
    expect(dropped.feed).toEqual(kept.feed);
    expect(JSON.parse(dropped.feed.afterJson)).toEqual({ id: "P-1", status: "APPROVED" });
  });
});
