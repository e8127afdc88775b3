// essctl replay and list refuse selections that cannot mean what the operator asked for.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSite, type EssSite, fileDropConnector, permitStatusMapping } from "../support/ess-site.js";
import { essctl } from "../support/essctl.js";

describe("essctl replay and list selections", () => {
  let site: EssSite;

  beforeAll(async () => {
    site = await createSite("replay-usage", ({ dropDir }) => ({
      connectors: { city_drop: fileDropConnector("city_drop", dropDir) },
      mappings: { permit_status: permitStatusMapping("city_drop") },
    }));
    // Two dead letters, committed a day apart.
    await site.db.query(
      `insert into ess.deliveries (token, correlation_id, connector, mapping, target_index, ordering_key, commit_time, state, payload, last_error)
       values ('t-old', 'c-old', 'city_drop', 'permit_status', 0, 'k1', '2024-01-01T00:00:00Z', 'dead', '\\x41', 'old'),
              ('t-new', 'c-new', 'city_drop', 'permit_status', 0, 'k2', '2024-01-02T12:00:00Z', 'dead', '\\x42', 'new')`,
    );
  });
  afterAll(async () => {
    await site?.cleanup();
  });

  it("item 14: replay --dead --since honours the window", async () => {
    const r = await essctl([
      "replay",
      "--dead",
      "--since",
      "2024-01-02T00:00:00Z",
      "--config",
      site.configPath,
      "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { replayed: number }).replayed).toBe(1);
    const states = await site.db.query<{ token: string; state: string }>(
      "select token, state from ess.deliveries order by token",
    );
    expect(states.rows).toEqual([
      { token: "t-new", state: "pending" },
      { token: "t-old", state: "dead" },
    ]);
  });

  it.each([
    {
      what: "--since later than --until",
      args: ["replay", "--connector", "city_drop", "--since", "2024-02-01", "--until", "2024-01-01"],
      message: /must be earlier than --until/,
    },
    {
      what: "replay --id of a delivery that does not exist",
      args: ["replay", "--id", "999999"],
      message: /no delivery 999999/,
    },
    {
      what: "list --connector of an unknown connector",
      args: ["list", "--connector", "city_dorp"],
      message: /names no connector.*city_drop/,
    },
    {
      what: "replay --connector of an unknown connector",
      args: ["replay", "--connector", "nope"],
      message: /names no connector/,
    },
  ])("item 14: $what exits 2 with a clear message", async ({ args, message }) => {
    const r = await essctl([...args, "--config", site.configPath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
