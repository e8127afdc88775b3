// Append-mode decisions: when a retry appends, skips, or stops for an operator.
import { describe, expect, it } from "vitest";
import { decideAppend, describeMismatch, readSavedOffset } from "../../src/adapters/drop-append.js";

describe("append decisions", () => {
  const cases = [
    {
      when: "first attempt, file missing: record offset 0 and create it",
      saved: undefined,
      size: undefined,
      body: 10,
      expected: { action: "append", at: 0, record: true },
    },
    {
      when: "first attempt, file has 120 bytes: record 120, append there",
      saved: undefined,
      size: 120,
      body: 10,
      expected: { action: "append", at: 120, record: true },
    },
    {
      when: "retry, the earlier attempt never appended",
      saved: 120,
      size: 120,
      body: 10,
      expected: { action: "append", at: 120, record: false },
    },
    {
      when: "retry, the earlier attempt appended and crashed before the ledger update",
      saved: 120,
      size: 130,
      body: 10,
      expected: { action: "done" },
    },
    {
      when: "retry, offset 0 and the file still missing: create it",
      saved: 0,
      size: undefined,
      body: 10,
      expected: { action: "append", at: 0, record: false },
    },
    {
      when: "retry, offset 0 and the whole batch is the file",
      saved: 0,
      size: 10,
      body: 10,
      expected: { action: "done" },
    },
    {
      when: "retry, a torn append left part of the batch",
      saved: 120,
      size: 125,
      body: 10,
      expected: { action: "mismatch", expected: [120, 130], found: 125 },
    },
    {
      when: "retry, someone else appended too",
      saved: 120,
      size: 300,
      body: 10,
      expected: { action: "mismatch", expected: [120, 130], found: 300 },
    },
    {
      when: "retry, the file was truncated or rotated",
      saved: 120,
      size: 0,
      body: 10,
      expected: { action: "mismatch", expected: [120, 130], found: 0 },
    },
    {
      when: "retry, the file is gone although bytes were expected",
      saved: 120,
      size: undefined,
      body: 10,
      expected: { action: "mismatch", expected: [120, 130], found: undefined },
    },
  ] as const;
  it.each(cases)("$when", ({ saved, size, body, expected }) => {
    expect(decideAppend(saved, size, body)).toEqual(expected);
  });

  it("says what was expected and what was found", () => {
    const text = describeMismatch("/IN/permits.csv", { action: "mismatch", expected: [120, 130], found: 125 });
    expect(text).toContain("/IN/permits.csv");
    expect(text).toContain("expected 120 bytes");
    expect(text).toContain("or 130 bytes");
    expect(text).toContain("found 125 bytes");
    expect(describeMismatch("/x", { action: "mismatch", expected: [1, 2], found: undefined })).toContain(
      "found no such file",
    );
  });
});

describe("saved append state", () => {
  const cases = [
    { state: undefined, expected: { offset: undefined } },
    { state: {}, expected: { offset: undefined } },
    { state: { offset: 0 }, expected: { offset: 0 } },
    { state: { offset: 4096 }, expected: { offset: 4096 } },
    { state: { offset: -1 }, expected: { invalid: "saved append offset -1 is not a byte offset" } },
    { state: { offset: 1.5 }, expected: { invalid: "saved append offset 1.5 is not a byte offset" } },
    { state: { offset: "12" }, expected: { invalid: 'saved append offset "12" is not a byte offset' } },
  ];
  it.each(cases)("$state reads as $expected", ({ state, expected }) => {
    expect(readSavedOffset(state)).toEqual(expected);
  });
});
