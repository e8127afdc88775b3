// How the states of an event's deliveries add up to the one state its receipt reads.
import { describe, expect, it } from "vitest";
import { type ReceiptState, receiptState } from "../../src/index.js";
import type { DeliveryState } from "../../src/ledger/delivery-queries.js";

describe("receiptState", () => {
  const cases: [string, DeliveryState[], ReceiptState][] = [
    ["not captured, or no mapping takes the topic", [], "pending"],
    ["queued", ["pending"], "pending"],
    ["on its way to the partner", ["sending"], "pending"],
    ["accepted by the partner", ["sent"], "sent"],
    ["confirmed by the partner", ["confirmed"], "confirmed"],
    ["waiting for its next attempt", ["retrying"], "retrying"],
    ["given up", ["dead"], "dead"],
    ["one partner confirmed, another only accepted", ["confirmed", "sent"], "sent"],
    ["one partner accepted, another not yet", ["sent", "pending"], "pending"],
    ["every partner confirmed", ["confirmed", "confirmed"], "confirmed"],
    ["a retry anywhere outranks progress elsewhere", ["confirmed", "retrying", "pending"], "retrying"],
    ["a dead letter anywhere outranks everything", ["sent", "retrying", "dead"], "dead"],
  ];
  it.each(cases)("%s", (_name, deliveries, expected) => {
    expect(receiptState(deliveries)).toBe(expected);
  });
});
