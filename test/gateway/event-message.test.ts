// The message a Gateway event travels in, read back the way capture reads it.
import { describe, expect, it } from "vitest";
import { EVENT_MESSAGE_PREFIX, eventToCaptured } from "../../src/capture/feed-rows.js";
import { PgJson } from "../../src/change/value.js";
import { eventMessage } from "../../src/gateway/event-message.js";

describe("eventMessage", () => {
  it("carries the receipt id, the topic and the payload, and capture reads topic and fields from it", () => {
    const id = "0b7f2a52-5a0e-4a8e-9f53-1d1b2c3d4e5f";
    const text = eventMessage({ topic: "reschedule", payload: { family: "A123", new_date: "2024-05-04" } }, id);
    expect(JSON.parse(text)).toEqual({
      id,
      topic: "reschedule",
      payload: { family: "A123", new_date: "2024-05-04" },
    });
    const captured = eventToCaptured(
      { begin: { kind: "begin", xid: 7, commitLsn: 0x16b3748n, commitTime: new Date(0) }, nextOrdinal: 0 },
      {
        kind: "message",
        transactional: true,
        lsn: 0x16b3700n,
        prefix: EVENT_MESSAGE_PREFIX,
        content: Buffer.from(text),
      },
    );
    expect(captured.topic).toBe("reschedule");
    expect(captured.row).toEqual({ family: "A123", new_date: "2024-05-04" });
    // The feed keeps the whole message, which is how a receipt id finds its event.
    expect(JSON.parse(captured.feed.afterJson)).toMatchObject({ id });
  });

  it("keeps nested values as JSON and numbers, booleans and null as they are", () => {
    const text = eventMessage(
      { topic: "visit.moved", payload: { visits: [{ at: "09:00" }], count: 2, urgent: false, note: null } },
      "00000000-0000-4000-8000-000000000000",
    );
    const captured = eventToCaptured(
      { begin: { kind: "begin", xid: 1, commitLsn: 1n, commitTime: new Date(0) }, nextOrdinal: 0 },
      { kind: "message", transactional: true, lsn: 1n, prefix: EVENT_MESSAGE_PREFIX, content: Buffer.from(text) },
    );
    expect(captured.row).toEqual({ visits: new PgJson([{ at: "09:00" }]), count: 2, urgent: false, note: null });
  });
});
