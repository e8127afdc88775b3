import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTcpProxy, type TcpProxy } from "../ops/tcp-proxy.js";
import {
  captureOptions,
  feedCount,
  prepareSource,
  slotFor,
  startCapture,
  waitFor,
} from "../support/capture-fixture.js";
import { createTestDatabase, type TestDatabase } from "../support/database.js";

describe("a replication connection that hangs without an error", () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  beforeAll(async () => {
    db = await createTestDatabase("capture-silent");
    await prepareSource(db.url);
    const url = new URL(db.url);
    proxy = await startTcpProxy(url.hostname, Number(url.port));
  });
  afterAll(async () => {
    await proxy?.stop();
    await db.drop();
  });

  it("is replaced once the server has been silent for silentAfterMs, and nothing is lost", async () => {
    const proxied = new URL(db.url);
    proxied.port = String(proxy.port);
    const { service, done } = startCapture(
      captureOptions(db.url, {
        sourceUrl: proxied.toString(),
        slot: slotFor(db.url),
        statusIntervalMs: 100,
        silentAfterMs: 1_500,
      }),
    );
    try {
      await waitFor("the stream", async () => service.status().connected);
      await db.query("insert into permits (id, status) values (1, 'BEFORE')");
      await waitFor("the first change", async () => (await feedCount(db.url)) === 1);
      // The path to the server hangs: no error, no data, no close.
      proxy.freezeOpen();
      await db.query("insert into permits (id, status) values (2, 'DURING')");
      await waitFor("a reconnect after the silence", async () => service.status().reconnects > 0, 15_000);
      await waitFor("the change committed while the path hung", async () => (await feedCount(db.url)) === 2, 15_000);
      expect(await feedCount(db.url)).toBe(2);
    } finally {
      await service.stop();
      await done;
    }
  });
});
