// Log lines of an adapter built for a connector name the connector once: a second `connector`
// key in one JSON line makes log processors keep either value, or reject the line.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAdapter } from "../../src/adapters/index.js";
import { createLogger } from "../../src/ops/logger.js";
import { fileConnector, makeBatch, RecordingContext, resend } from "./drop-fixtures.js";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "ess-log-bindings-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("adapter log lines", () => {
  it("carry the connector key exactly once", async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on("data", (chunk: Buffer) => lines.push(...chunk.toString("utf8").split("\n").filter(Boolean)));
    const connector = fileConnector(dir, {}, "city_hall_files");
    const adapter = createAdapter(connector, { logger: createLogger({ level: "debug", destination: stream }) });
    const batch = makeBatch({ sequence: 7, connector: connector.name });

    await adapter.send(resend(batch, adapter.batchName?.(batch) ?? "x"), new RecordingContext());
    await new Promise((resolve) => setImmediate(resolve));

    const dropped = lines.filter((line) => line.includes('"batch dropped"'));
    expect(dropped, lines.join("\n")).toHaveLength(1);
    for (const line of lines) {
      expect(line.match(/"connector":/g), line).toHaveLength(1);
      expect(JSON.parse(line).connector).toBe("city_hall_files");
    }
  });
});
