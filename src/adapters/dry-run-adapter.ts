// dryRun: logs what would be sent (secrets redacted; PII was masked by the mapping) and sends nothing.
import { redactSecrets } from "../config/secrets.js";
import type { Logger } from "../ops/logger.js";
import type { Adapter, Batch, ItemOutcome } from "./adapter.js";

const PREVIEW_BYTES = 2000;

export class DryRunAdapter implements Adapter {
  readonly kind: Adapter["kind"];
  readonly batchName?: Adapter["batchName"];

  constructor(
    private readonly inner: Adapter,
    private readonly logger: Logger,
  ) {
    this.kind = inner.kind;
    if (inner.batchName) this.batchName = (batch) => inner.batchName?.(batch) ?? "";
  }

  async send(batch: Batch): Promise<readonly ItemOutcome[]> {
    const drop = batch.body.length > 0;
    this.logger.info(
      {
        connector: batch.connector,
        batch: batch.id,
        name: batch.name,
        dryRun: true,
        tokens: batch.items.map((i) => i.token),
        payload: redactSecrets(
          (drop ? batch.body : Buffer.concat(batch.items.map((i) => i.payload)))
            .subarray(0, PREVIEW_BYTES)
            .toString("latin1"),
        ),
      },
      "dry run: not sent",
    );
    return batch.items.map((i) => ({ id: i.id, ok: true as const, reference: "dry-run" }));
  }

  async heartbeat(): Promise<void> {
    // A dry run contacts no partner.
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}
