import { describe, expect, it } from "vitest";
import { correlationIdFor, deliveryToken } from "../../src/delivery/token.js";

describe("idempotency tokens", () => {
  const identity = { connector: "city_hall_cobol", mapping: "permit_status", targetIndex: 0, change: "0/1A2B3C/4" };

  it("are the same every time for the same change and target", () => {
    expect(deliveryToken(identity)).toBe(deliveryToken({ ...identity }));
    expect(deliveryToken(identity)).toMatch(/^ess1-[0-9a-f]{40}$/);
  });

  it.each([
    { field: "connector", changed: { connector: "vdot_gis" } },
    { field: "mapping", changed: { mapping: "permit_fees" } },
    { field: "target", changed: { targetIndex: 1 } },
    { field: "change", changed: { change: "0/1A2B3C/5" } },
  ])("differ when the $field differs", ({ changed }) => {
    expect(deliveryToken({ ...identity, ...changed })).not.toBe(deliveryToken(identity));
  });

  it("give a correlation id derived from the token", () => {
    const token = deliveryToken(identity);
    expect(correlationIdFor(token)).toBe(`ess-${token.slice(5, 29)}`);
  });
});
