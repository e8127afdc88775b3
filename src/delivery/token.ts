// Deterministic idempotency tokens and correlation ids for deliveries.
import { createHash } from "node:crypto";
import { correlationIdOf } from "../ledger/token-lookup.js";

export interface DeliveryIdentity {
  readonly connector: string;
  readonly mapping: string;
  readonly targetIndex: number;
  /** Identity of the source change: "commitLsn/ordinal" for captured changes, or a backfill identity. */
  readonly change: string;
}

/**
 * The same change through the same mapping target to the same connector always yields the
 * same token, so a change captured again after a crash is recognised, and a partner that
 * remembers tokens applies it once.
 */
export function deliveryToken(identity: DeliveryIdentity): string {
  const hash = createHash("sha256")
    .update(identity.connector)
    .update("\0")
    .update(identity.mapping)
    .update("\0")
    .update(String(identity.targetIndex))
    .update("\0")
    .update(identity.change)
    .digest("hex");
  return `ess1-${hash.slice(0, 40)}`;
}

/** Partners echo the correlation id in callbacks; it is the token's readable short form. */
export function correlationIdFor(token: string): string {
  return correlationIdOf(token);
}
