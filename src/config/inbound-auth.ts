// Reads the credentials of an authenticated HTTP lane: a connector's `inbound:` (partner callbacks)
// and ess.yaml's `events:` (POST /events, GET /receipts/<id>).
import type { InboundAuth } from "./types.js";
import type { ValueReader } from "./yaml-reader.js";

export function readInboundAuth(value: ValueReader | undefined, section: string): InboundAuth | undefined {
  const inbound = value?.map(["hmacSecret", "bearerToken", "tolerance"]);
  if (!inbound) return undefined;
  const hmacSecret = inbound.get("hmacSecret")?.string("a shared secret");
  const bearerToken = inbound.get("bearerToken")?.string("a bearer token");
  const toleranceMs = inbound.get("tolerance")?.duration();
  if (!inbound.has("hmacSecret") && !inbound.has("bearerToken")) {
    return inbound.fail(`${section} needs hmacSecret or bearerToken`, { expected: "hmacSecret or bearerToken" });
  }
  return {
    ...(hmacSecret !== undefined ? { hmacSecret } : {}),
    ...(bearerToken !== undefined ? { bearerToken } : {}),
    ...(toleranceMs !== undefined ? { toleranceMs } : {}),
  };
}
