// The inbound lane in the demo: the county scheduler answers its Reschedule call through
// POST /inbound/<connector>, and an application hears it: LISTEN ess_inbound, LISTEN ess_receipts
// and Gateway.watch() on the event's receipt.
import pg from "pg";
import type { Gateway } from "../gateway/index.js";

export interface PartnerAnswerOptions {
  readonly ledgerUrl: string;
  /** Where ESS takes partners' calls, e.g. http://127.0.0.1:40123. */
  readonly inboundUrl: string;
  readonly connector: string;
  readonly bearerToken: string;
  readonly gateway: Gateway;
  readonly receiptId: string;
  readonly timeoutMs: number;
}

export async function partnerAnswerLines(options: PartnerAnswerOptions): Promise<string[]> {
  const { gateway, receiptId } = options;
  const detail = await gateway.receiptDetail(receiptId);
  const delivery = detail.deliveries.find((d) => d.connector === options.connector);
  if (!delivery) throw new Error(`the event ${receiptId} has no delivery to ${options.connector}`);

  // The application listens before the partner answers, as it would all day.
  const listener = new pg.Client({ connectionString: options.ledgerUrl, application_name: "ess-demo-application" });
  const heard: string[] = [];
  listener.on("notification", (n) => heard.push(`NOTIFY ${n.channel} ${n.payload ?? ""}`));
  listener.on("error", () => undefined);
  await listener.connect();
  const lines: string[] = [];
  try {
    await listener.query("listen ess_inbound");
    await listener.query("listen ess_receipts");
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), options.timeoutMs);
    const watched: string[] = [];
    const watching = (async () => {
      for await (const update of gateway.watch(receiptId, { signal: abort.signal, pollMs: 1_000 })) {
        watched.push(update.state);
      }
    })();

    const body = JSON.stringify({
      correlationId: delivery.correlationId,
      status: "accepted",
      reference: "CAL-2024-0417",
      message: "hearing slot confirmed",
    });
    const response = await fetch(`${options.inboundUrl}/inbound/${options.connector}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${options.bearerToken}` },
      body,
    });
    const answer = (await response.json()) as { state?: string };
    lines.push(`${options.connector} calls back: POST /inbound/${options.connector} ${body}`);
    lines.push(`  -> HTTP ${response.status}, delivery ${delivery.id} is now "${answer.state ?? "?"}"`);
    await watching;
    clearTimeout(timer);
    // Notifications arrive when the answer's transaction commits, before the watch has read it.
    lines.push("An application listening on the ledger heard:");
    for (const line of heard) lines.push(`  ${line}`);
    lines.push(`  Gateway.watch("${receiptId}") saw: ${watched.join(" -> ")}`);
  } finally {
    await listener.end().catch(() => undefined);
  }
  return lines;
}
