import { describe, expect, it } from "vitest";
import { parseTableRef } from "../../src/config/table-ref.js";

describe("table names in mappings", () => {
  it.each([
    ["public.permits", { schema: "public", name: "permits" }],
    ["permits", { schema: "public", name: "permits" }],
    ["hms.Permits", { schema: "hms", name: "permits" }],
    ['"Hms"."Permit Log"', { schema: "Hms", name: "Permit Log" }],
    ['hms."a.b"', { schema: "hms", name: "a.b" }],
    ['"say ""hi"""', { schema: "public", name: 'say "hi"' }],
  ])("%s names %j", (text, ref) => {
    expect(parseTableRef(text)).toEqual(ref);
  });

  it.each(["", "a.b.c", "public.", ".permits", "per mits", "1permits", '"open', "public..permits"])(
    "%j is refused",
    (text) => {
      expect(parseTableRef(text)).toBeUndefined();
    },
  );
});
