// Asks a running ESS for its readiness over `http.listen`, so other processes (essctl stats) can show a stall.
import type { ReadinessReport } from "./readiness.js";

export type EngineProbe =
  | { readonly reachable: false; readonly error: string }
  | {
      readonly reachable: true;
      readonly ready: boolean;
      readonly stalled: boolean;
      /** Why it is not ready (empty when ready). */
      readonly reasons: readonly string[];
      /** The likely causes the engine named for a stall. */
      readonly stallCauses: readonly string[];
      /** leader, standby or delivery-only. */
      readonly role: string;
    };

export async function probeRunningEngine(
  http: { readonly host: string; readonly port: number },
  timeoutMs = 2_000,
): Promise<EngineProbe> {
  if (http.port === 0) {
    return { reachable: false, error: "http.listen uses port 0: a running engine's port is not known" };
  }
  const host = http.host.includes(":") ? `[${http.host}]` : http.host;
  try {
    const response = await fetch(`http://${host}:${http.port}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    const report = (await response.json()) as Partial<ReadinessReport>;
    if (!Array.isArray(report.reasons) || report.checks === undefined) {
      return { reachable: false, error: `http://${host}:${http.port}/readyz did not answer like ESS` };
    }
    return {
      reachable: true,
      ready: response.status === 200 && report.ready === true,
      stalled: report.checks.stall?.ok === false,
      reasons: report.reasons,
      stallCauses: report.checks.stall?.causes ?? [],
      role: report.role ?? "unknown",
    };
  } catch (error) {
    return { reachable: false, error: `no ESS answers on ${host}:${http.port}: ${(error as Error)?.message}` };
  }
}
