// Runs one EssEngine (capture + delivery) for a site's configuration and stops it, surfacing a failed run.
import type { EssConfig } from "../../src/config/types.js";
import { type EngineOptions, EssEngine } from "../../src/engine.js";
import { silentLogger } from "../../src/ops/logger.js";

export interface RunningEngine {
  readonly engine: EssEngine;
  /** Graceful stop; rethrows when the engine's run had failed on its own. */
  stop(): Promise<void>;
}

export async function runEngine(
  config: EssConfig,
  options: Pick<EngineOptions, "scheduleClock" | "events"> = {},
): Promise<RunningEngine> {
  const engine = await EssEngine.create(config, {
    logger: silentLogger(),
    pollMs: 25,
    statusIntervalMs: 200,
    ...options,
  });
  let failure: unknown;
  const running = engine.start().catch((error: unknown) => {
    failure = error;
  });
  let stopped = false;
  return {
    engine,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await engine.stop();
      await running;
      if (failure !== undefined) throw new Error("the engine stopped on an error", { cause: failure });
    },
  };
}
