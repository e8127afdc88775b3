// Which changes a mapping takes (table or topic, ops, where) and the ordering key that keeps one row's deliveries in order.
import { describe, expect, it } from "vitest";
import { UNCHANGED_TOAST } from "../../src/change/value.js";
import type { MappingSource } from "../../src/config/types.js";
import { type CompileOptions, compileMapping } from "../../src/mapping/index.js";
import { connectorMap, mappingConfig, restConnector, targetConfig } from "./mapping-builders.js";

function compiled(source: Partial<MappingSource>, options?: CompileOptions) {
  const result = compileMapping(
    mappingConfig([targetConfig("gis", "json", { id: "id" })], { source }),
    connectorMap(restConnector("gis")),
    options,
  );
  expect(result.errors).toEqual([]);
  return result.mapping!;
}

const permits = { schema: "public", name: "permits" };

describe("matches", () => {
  const mapping = compiled({
    table: permits,
    ops: ["insert", "update"],
    where: { status: ["APPROVED", "DENIED"], priority: [1, 2], urgent: [true], closed_at: [null] },
  });

  it.each([
    [
      "an approved insert",
      { op: "insert", row: { status: "APPROVED", priority: 1, urgent: true, closed_at: null } },
      true,
    ],
    [
      "int8 and numeric text compare by text",
      { op: "update", row: { status: "DENIED", priority: 2n, urgent: true, closed_at: null } },
      true,
    ],
    [
      "numeric text '2' matches the number 2",
      { op: "update", row: { status: "DENIED", priority: "2", urgent: true, closed_at: null } },
      true,
    ],
    [
      "a pending permit",
      { op: "update", row: { status: "PENDING", priority: 1, urgent: true, closed_at: null } },
      false,
    ],
    [
      "a priority outside the list",
      { op: "update", row: { status: "APPROVED", priority: 3, urgent: true, closed_at: null } },
      false,
    ],
    ["urgent false", { op: "update", row: { status: "APPROVED", priority: 1, urgent: false, closed_at: null } }, false],
    [
      "closed_at not NULL",
      { op: "update", row: { status: "APPROVED", priority: 1, urgent: true, closed_at: "2025-01-01" } },
      false,
    ],
    [
      "a delete (not in ops)",
      { op: "delete", row: { status: "APPROVED", priority: 1, urgent: true, closed_at: null } },
      false,
    ],
    [
      "lowercase status",
      { op: "insert", row: { status: "approved", priority: 1, urgent: true, closed_at: null } },
      false,
    ],
    [
      "an unchanged TOAST status passes",
      { op: "update", row: { status: UNCHANGED_TOAST, priority: 1, urgent: true, closed_at: null } },
      true,
    ],
  ] as const)("%s → %s", (_name, change, expected) => {
    expect(mapping.matches({ ...change, table: permits })).toBe(expected);
  });

  it("ignores other tables and topics", () => {
    const row = { status: "APPROVED", priority: 1, urgent: true, closed_at: null };
    expect(mapping.matches({ op: "insert", table: { schema: "other", name: "permits" }, row })).toBe(false);
    expect(mapping.matches({ op: "insert", topic: "permits", row })).toBe(false);
  });

  it("lets a delete whose old row lacks the where columns through (REPLICA IDENTITY DEFAULT)", () => {
    const all = compiled({ table: permits, ops: ["delete"], where: { status: ["APPROVED"] } });
    expect(all.matches({ op: "delete", table: permits, row: { id: "BP-1" } })).toBe(true);
    expect(all.matches({ op: "delete", table: permits, row: { id: "BP-1", status: "PENDING" } })).toBe(false);
  });

  it("takes application events by topic", () => {
    const events = compiled({ table: undefined, topic: "reschedule", ops: ["insert"] });
    expect(events.matches({ op: "insert", topic: "reschedule", row: { family: "A123" } })).toBe(true);
    expect(events.matches({ op: "insert", topic: "cancel", row: { family: "A123" } })).toBe(false);
    expect(events.matches({ op: "insert", table: permits, row: {} })).toBe(false);
  });
});

describe("orderingKey", () => {
  it.each([
    ["source.key [id]", { key: ["id"] }, undefined, { id: "BP-802" }, "BP-802"],
    ["a numeric id", { key: ["id"] }, undefined, { id: 802 }, "802"],
    ["an int8 id", { key: ["id"] }, undefined, { id: 9007199254740993n }, "9007199254740993"],
    ["two key columns", { key: ["agency", "seq"] }, undefined, { agency: "A", seq: 7 }, '["A","7"]'],
    [
      "a text that looks like JSON stays apart",
      { key: ["agency", "seq"] },
      undefined,
      { agency: '["A"', seq: null },
      '["[\\"A\\"",null]',
    ],
    ["the override when source.key is absent", {}, { keyColumns: ["permit_no"] }, { permit_no: "P1", id: 5 }, "P1"],
    [
      "source.key wins over the override",
      { key: ["id"] },
      { keyColumns: ["permit_no"] },
      { permit_no: "P1", id: 5 },
      "5",
    ],
    ["the id fallback", {}, undefined, { id: 5, x: 1 }, "5"],
    ["no id at all: one lane", {}, undefined, { x: 1 }, ""],
    ["a NULL key column", { key: ["id"] }, undefined, { id: null }, "[null]"],
  ] as const)("%s", (_name, source, options, row, expected) => {
    expect(compiled({ table: permits, ...source }, options).orderingKey(row)).toBe(expected);
  });

  it("lists the key and the columns the mapping reads", () => {
    const mapping = compiled({ table: permits, key: ["id"], where: { status: ["A"] } });
    expect(mapping.keyColumns).toEqual(["id"]);
    expect([...mapping.columns].sort()).toEqual(["id", "status"]);
  });
});
