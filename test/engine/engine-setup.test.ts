import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineSetupError, EssEngine } from "../../src/engine.js";
import { silentLogger } from "../../src/ops/logger.js";
import { createSite, type EssSite, fileDropConnector, permitStatusMapping } from "../support/ess-site.js";
import { essctl } from "../support/essctl.js";

// The configuration loads (without a database the key is assumed to be `id`), but the source's
// primary key is a column the mapping lists as PII: only the engine, asking the source, finds it.
describe("a mapping that fails against the source database", () => {
  let site: EssSite;
  beforeAll(async () => {
    site = await createSite("engine-setup", ({ dropDir }) => ({
      connectors: { city_drop: fileDropConnector("city_drop", dropDir) },
      mappings: { permit_status: permitStatusMapping("city_drop") },
    }));
    await site.db.query(
      "alter table permits drop constraint permits_pkey; alter table permits alter applicant_ssn set not null; alter table permits add primary key (applicant_ssn)",
    );
  });
  afterAll(async () => {
    await site?.cleanup();
  });

  it("stops the engine's start with the mapping file, line and field as fields of the error", async () => {
    const config = await site.load();
    const failure = await EssEngine.create(config, { logger: silentLogger() }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(EngineSetupError);
    const { problems, message } = failure as EngineSetupError;
    expect(problems).toHaveLength(1);
    const [problem] = problems;
    expect(problem?.file).toMatch(/mappings\/permit_status\.yaml$/);
    expect(problem?.line).toBeGreaterThan(0);
    expect(problem?.column).toBeGreaterThan(0);
    expect(problem?.segments.slice(-2)).toEqual(["source", "key"]);
    expect(problem?.found).toBe("applicant_ssn");
    // The operator still reads file:line in the one message.
    expect(message).toContain(`permit_status.yaml:${problem?.line}:${problem?.column}`);
    expect(message).toContain("key column applicant_ssn is listed in pii");
  });

  it("essctl start names the file and line and exits with a failure", async () => {
    const result = await essctl(["start", "--config", site.configPath]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /EngineSetupError: .*permit_status\.yaml:\d+:\d+: \S*source\.key: key column applicant_ssn is listed in pii/,
    );
  });
});
