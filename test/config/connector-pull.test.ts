import { afterAll, describe, expect, it } from "vitest";
import { ConfigErrors, loadConfig } from "../../src/config/index.js";
import { type ConfigDir, writeConfigDir, yaml } from "./config-dir.js";

const ESS = yaml(
  "database:",
  "  url: postgres://ess@127.0.0.1:5432/hms",
  "replication:",
  "  slot: ess_main",
  "  publication: ess_pub",
  "events: { bearerToken: events-token }",
);

const FILE_CONNECTOR = [
  "name: city",
  "adapter: file",
  "file: { dir: /drop/IN, file: 'p_{batch}.txt' }",
  "encoding: cp037",
];

describe("a connector's pull: and answers:", () => {
  const dirs: ConfigDir[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => d.remove()));
  });
  async function load(connector: string): Promise<Awaited<ReturnType<typeof loadConfig>>> {
    const dir = await writeConfigDir({ "ess.yaml": ESS, "connectors/c.yaml": connector });
    dirs.push(dir);
    return loadConfig(dir.path("ess.yaml"), { env: {} });
  }
  async function errors(connector: string): Promise<string[]> {
    try {
      await load(connector);
    } catch (error) {
      if (error instanceof ConfigErrors) return error.errors.map((e) => `${e.line} ${e.path}: ${e.message}`);
      throw error;
    }
    throw new Error("expected configuration errors");
  }

  it("reads answer files in the connector's code page, their fields and status codes, and an application table", async () => {
    const config = await load(
      yaml(
        ...FILE_CONNECTOR,
        "pull:",
        "  every: 30s",
        "  dir: /drop/OUT",
        "  file: 'ack_*.txt'",
        "  format: fixed-width",
        "  fields: { correlationId: { start: 1, width: 28 }, status: { start: 29, width: 1 } }",
        "  statusCodes: { A: accepted, R: rejected }",
        "answers:",
        "  table: hearings.vendor_confirmation",
        "  key: [correlation_id]",
        "  columns: { correlation_id: correlationId, status: status }",
      ),
    );
    expect(config.events).toEqual({ bearerToken: "events-token" });
    const connector = config.connectors[0];
    expect(connector?.pull).toEqual({
      kind: "files",
      everyMs: 30_000,
      dir: "/drop/OUT",
      file: "ack_*.txt",
      done: "/drop/OUT/done",
      layout: {
        format: "fixed-width",
        encoding: "cp037",
        fields: { correlationId: { start: 1, width: 28 }, status: { start: 29, width: 1 } },
        statusCodes: { A: "accepted", R: "rejected" },
        csv: { header: true, delimiter: "," },
      },
    });
    expect(connector?.answers).toEqual({
      table: { schema: "hearings", name: "vendor_confirmation" },
      key: ["correlation_id"],
      columns: [
        { column: "correlation_id", value: "correlationId" },
        { column: "status", value: "status" },
      ],
    });
  });

  it("names the line and field of what is wrong", async () => {
    expect(
      await errors(
        yaml(
          ...FILE_CONNECTOR,
          "pull:",
          "  dir: /drop/OUT",
          "  file: 'ack_*.txt'",
          "  format: fixed-width",
          "  fields: { correlationId: { start: 1, width: 28 } }",
          "answers:",
          "  table: t",
          "  key: [id]",
          "  columns: { note: body }",
        ),
      ),
    ).toEqual([
      expect.stringMatching(/^9 pull\.fields\.status: .*missing required key "status"/),
      expect.stringMatching(/^12 answers\.key: .*key column id is not among the columns written/),
      expect.stringMatching(/^13 answers\.columns\.note: .*unknown answer value "body"/),
    ]);
    expect(
      await errors(
        yaml(
          "name: county",
          "adapter: soap",
          "soap: { wsdl: http://x/wsdl, operation: Op }",
          "pull: { url: 'http://x/{correlationId}' }",
        ),
      ),
    ).toEqual([expect.stringMatching(/^4 pull: .*pull is not available for adapter soap/)]);
    expect(
      await errors(
        yaml("name: gis", "adapter: rest", "rest: { url: http://x/api }", "pull: { url: 'http://x/status' }"),
      ),
    ).toEqual([expect.stringMatching(/^4 pull\.url: .*the status URL must .* name \{correlationId\}/)]);
  });
});
