import { describe, expect, it } from "vitest";
import { type CheckpointFacts, judgeCheckpoint } from "../../src/capture/checkpoint-trust.js";
import { parseTimelineHistory } from "../../src/source/server-identity.js";

const L = (n: number) => BigInt(n);
const server = { systemIdentifier: "7400000000000000001", timeline: 1, history: [] };
const recorded = { systemIdentifier: "7400000000000000001", timeline: 1, slotStartLsn: L(100) };

function facts(overrides: Partial<CheckpointFacts>): CheckpointFacts {
  return {
    slot: "ess_main",
    server,
    recorded,
    slotState: { created: false, confirmedFlushLsn: L(500) },
    checkpoint: L(600),
    acceptChange: false,
    ...overrides,
  };
}

describe("which checkpoints capture trusts", () => {
  it.each([
    ["a checkpoint ahead of the slot on the same server and timeline (stored, not yet confirmed)", {}, L(600)],
    ["a checkpoint behind the slot (the idle heartbeat confirmed past it)", { checkpoint: L(400) }, L(500)],
    ["no checkpoint yet", { checkpoint: null }, L(500)],
    ["a ledger from before identities were recorded", { recorded: null }, L(600)],
    [
      "a promotion that branched after the checkpoint (a synchronised failover slot)",
      { server: { ...server, timeline: 2, history: [{ timeline: 1, switchLsn: L(700) }] } },
      L(600),
    ],
    [
      "a new slot on a fresh ledger",
      { recorded: null, checkpoint: null, slotState: { created: true, confirmedFlushLsn: L(900) } },
      L(900),
    ],
  ])("trusts %s", (_name, overrides, start) => {
    const verdict = judgeCheckpoint(facts(overrides));
    expect(verdict).toMatchObject({ trust: true, start });
  });

  it.each([
    [
      "another server",
      { server: { ...server, systemIdentifier: "7499999999999999999" } },
      /another server: its system identifier is 7499999999999999999, the ledger's checkpoint 0\/258 was taken on 7400000000000000001/,
    ],
    [
      "a promotion that branched before the checkpoint (a lagging standby)",
      { server: { ...server, timeline: 2, history: [{ timeline: 1, switchLsn: L(550) }] } },
      /timeline 2 branched from timeline 1 at 0\/226, before the ledger's checkpoint 0\/258/,
    ],
    [
      "a timeline that does not descend from the recorded one",
      {
        server: { ...server, timeline: 3, history: [{ timeline: 2, switchLsn: L(550) }] },
        recorded: { ...recorded, timeline: 4 },
      },
      /timeline 3, which does not descend from timeline 4/,
    ],
    [
      "a checkpoint ahead of a slot created now",
      { slotState: { created: true, confirmedFlushLsn: L(500) } },
      /slot ess_main was created now, at 0\/1F4, behind the ledger's checkpoint 0\/258 of an earlier slot: the changes between them would be skipped/,
    ],
    [
      "a checkpoint behind a slot created now",
      { slotState: { created: true, confirmedFlushLsn: L(800) } },
      /created now, at 0\/320; the ledger's checkpoint 0\/258 belongs to an earlier slot: the changes between them are in no stream/,
    ],
  ])("refuses %s, naming it", (_name, overrides, named) => {
    const verdict = judgeCheckpoint(facts(overrides));
    expect(verdict.trust).toBe(false);
    if (verdict.trust) return;
    expect(verdict.mismatches.join("; ")).toMatch(named);
  });

  it("an accepted change starts from the slot's own position and records the new server", () => {
    const verdict = judgeCheckpoint(
      facts({ server: { ...server, systemIdentifier: "7499999999999999999" }, acceptChange: true }),
    );
    expect(verdict).toMatchObject({
      trust: true,
      start: L(500),
      record: { systemIdentifier: "7499999999999999999", timeline: 1, slotStartLsn: L(500) },
    });
    expect(verdict.trust && verdict.accepted?.[0]).toMatch(/another server/);
  });

  it("reads a timeline history file", () => {
    expect(
      parseTimelineHistory("1\t0/3000158\tno recovery target specified\n\n2\t0/5000000\tat restore point\n"),
    ).toEqual([
      { timeline: 1, switchLsn: 0x3000158n },
      { timeline: 2, switchLsn: 0x5000000n },
    ]);
  });
});
