// How a backfilled row becomes deliveries: only rows the mapping takes, tokens from the row's state, dead letters with a reason.
import { describe, expect, it } from "vitest";
import { planBackfillRow } from "../../src/capture/backfill-planner.js";
import { type CompiledMapping, compileMapping } from "../../src/mapping/index.js";
import {
  connectorMap,
  mappingConfig,
  restConnector,
  sftpConnector,
  targetConfig,
} from "../mapping/mapping-builders.js";

const TABLE = { schema: "public", name: "permits" };
const SNAPSHOT_TIME = new Date("2025-04-12T14:03:00Z");

function compiled(): CompiledMapping {
  const result = compileMapping(
    mappingConfig(
      [
        targetConfig("gis", "json", { permit_id: "id", status: "status | lower", op: "_op" }),
        targetConfig("city", "fixed-width", { PERMIT_ID: "id | width:6" }, { index: 1 }),
      ],
      { source: { where: { status: ["APPROVED", "DENIED"] } } },
    ),
    connectorMap(restConnector("gis"), sftpConnector("city", "utf-8")),
    { keyColumns: ["id"] },
  );
  if (!result.mapping) throw new Error(result.errors.map((e) => e.message).join("\n"));
  return result.mapping;
}

describe("planBackfillRow", () => {
  const mapping = compiled();
  const row = { id: "BP-1", status: "APPROVED", amount: "10.00" };

  it("renders the row for every target as an insert, with no feed position", () => {
    const candidate = planBackfillRow(mapping, TABLE, row, SNAPSHOT_TIME, ["id"]);
    expect(candidate?.orderingKey).toBe("BP-1");
    expect(candidate?.identity).toEqual({ id: "BP-1" });
    expect(candidate?.state).toEqual(row);
    const [json, fixed] = candidate?.deliveries ?? [];
    expect(JSON.parse(json?.payload?.toString() ?? "null")).toEqual({
      permit_id: "BP-1",
      status: "approved",
      op: "insert",
    });
    expect(fixed?.payload?.toString()).toBe("BP-1  \r\n");
    expect(json).toMatchObject({ state: "pending", commitLsn: null, ordinal: null, commitTime: SNAPSHOT_TIME });
  });

  it("yields the same tokens for the same state, new ones for a changed row, distinct ones per target", () => {
    const tokens = (r: typeof row) =>
      planBackfillRow(mapping, TABLE, r, SNAPSHOT_TIME, ["id"])?.deliveries.map((d) => d.token) ?? [];
    const first = tokens(row);
    expect(new Set(first).size).toBe(2);
    expect(tokens({ ...row })).toEqual(first);
    // A later snapshot of the unchanged row: the same tokens.
    expect(planBackfillRow(mapping, TABLE, row, new Date(), ["id"])?.deliveries.map((d) => d.token)).toEqual(first);
    const changed = tokens({ ...row, amount: "12.00" });
    expect(changed.some((t) => first.includes(t))).toBe(false);
  });

  it("takes only rows the mapping's where accepts", () => {
    expect(planBackfillRow(mapping, TABLE, { ...row, status: "PENDING" }, SNAPSHOT_TIME, ["id"])).toBeNull();
  });

  it("a row that cannot be rendered for one target becomes a dead letter there, with its reason", () => {
    const candidate = planBackfillRow(mapping, TABLE, { ...row, id: "BP-1234567" }, SNAPSHOT_TIME, ["id"]);
    const [json, fixed] = candidate?.deliveries ?? [];
    expect(json?.state).toBe("pending");
    expect(fixed).toMatchObject({ state: "dead", payload: null });
    expect(fixed?.error).toMatch(/mapping permit_status target 1 \(city\).*PERMIT_ID/);
  });

  it("a table without a primary key is identified by the whole row", () => {
    expect(planBackfillRow(mapping, TABLE, row, SNAPSHOT_TIME, [])?.identity).toEqual(row);
  });
});
