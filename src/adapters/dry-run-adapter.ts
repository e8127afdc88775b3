// dryRun: a connector that contacts no partner. Its deliveries are previewed (logged) by the
// delivery service and left pending; this adapter only answers heartbeats and refuses to send.
import { type Adapter, AdapterError, type ItemOutcome } from "./adapter.js";

export class DryRunAdapter implements Adapter {
  readonly kind: Adapter["kind"];
  readonly batchName?: Adapter["batchName"];
  readonly takesBatchBody: boolean;
  readonly oneBatchAtATime: boolean;

  constructor(private readonly inner: Adapter) {
    this.kind = inner.kind;
    this.takesBatchBody = inner.takesBatchBody;
    this.oneBatchAtATime = inner.oneBatchAtATime;
    if (inner.batchName) this.batchName = (batch) => inner.batchName?.(batch) ?? "";
  }

  async send(): Promise<readonly ItemOutcome[]> {
    // Never reached through the delivery service (a dry-run connector has no worker); a caller
    // that sends anyway gets its batch back unspent and the connector held.
    throw new AdapterError("the connector is in dryRun: nothing is sent", { failure: "attention", reason: "dry_run" });
  }

  async heartbeat(): Promise<void> {
    // A dry run contacts no partner.
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}
