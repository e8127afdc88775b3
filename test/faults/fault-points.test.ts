import { readFile, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { armedTriggers, FaultSettingsError, ignoredFaultSettings, parseFaultSettings } from "../../src/fault-points.js";
import { faultEnv } from "../support/fault-arming.js";

const MODULE = fileURLToPath(new URL("../../src/fault-points.ts", import.meta.url));

describe("fault points are reachable only from the test suite", () => {
  it("fire when the harness armed them: its key file and the points", () => {
    const env = faultEnv("accepted-before-ledger:city_drop,claimed-before-send=0.5,capture-copy-midway@3");
    expect(Object.fromEntries(armedTriggers(env))).toEqual({
      "accepted-before-ledger": { nth: 1, scope: "city_drop" },
      "claimed-before-send": { probability: 0.5 },
      "capture-copy-midway": { nth: 3 },
    });
    expect(ignoredFaultSettings(env)).toBeUndefined();
  });

  it.each([
    { what: "no arming at all", env: { ESS_FAULT_POINTS: "accepted-before-ledger" } },
    { what: "the older knob alone", env: { ESS_FAULT_KILL_AFTER_SEND: "1" } },
    {
      what: "a key that does not match the file",
      env: { ...faultEnv("accepted-before-ledger"), ESS_FAULT_ARMING_KEY: "x".repeat(48) },
    },
    {
      what: "a missing key file",
      env: { ...faultEnv("accepted-before-ledger"), ESS_FAULT_ARMING_FILE: "/nonexistent/ess-arming" },
    },
  ])("are ignored with $what, and start-up says so", ({ env }) => {
    expect(armedTriggers(env).size).toBe(0);
    expect(ignoredFaultSettings(env)).toMatch(/ignored: fault points fire only inside the test suite/);
  });

  it("a short key in a file an operator wrote does not arm them", async () => {
    const file = fileURLToPath(new URL("./short-key.tmp", import.meta.url));
    await writeFile(file, "secret");
    try {
      expect(
        armedTriggers({
          ESS_FAULT_POINTS: "accepted-before-ledger",
          ESS_FAULT_ARMING_FILE: file,
          ESS_FAULT_ARMING_KEY: "secret",
        }).size,
      ).toBe(0);
    } finally {
      await rm(file);
    }
  });

  it("never fire from the built JavaScript, even when armed", async () => {
    const built = ts.transpileModule(await readFile(MODULE, "utf8"), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    const file = fileURLToPath(new URL("./fault-points.built.tmp.mjs", import.meta.url));
    await writeFile(file, built.outputText);
    try {
      const compiled = (await import(file)) as { armedTriggers: typeof armedTriggers };
      const env = faultEnv("accepted-before-ledger");
      expect(compiled.armedTriggers(env).size).toBe(0);
      expect(armedTriggers(env).size).toBe(1);
    } finally {
      await rm(file);
    }
  });

  it("ESS_FAULT_KILL_AFTER_SEND is the older name of accepted-before-ledger", () => {
    expect(Object.fromEntries(parseFaultSettings({ ESS_FAULT_KILL_AFTER_SEND: "0.25" }))).toEqual({
      "accepted-before-ledger": { probability: 0.25 },
    });
  });

  it.each([
    { env: { ESS_FAULT_POINTS: "after-send" }, message: /unknown fault point; known: claimed-before-send/ },
    { env: { ESS_FAULT_POINTS: "claimed-before-send=2" }, message: /probability from 0 to 1/ },
    { env: { ESS_FAULT_POINTS: "claimed-before-send@0" }, message: /hit number starts at 1/ },
    { env: { ESS_FAULT_KILL_AFTER_SEND: "yes" }, message: /ESS_FAULT_KILL_AFTER_SEND: expected a probability/ },
  ])("a malformed setting names the variable and the entry: $env", ({ env, message }) => {
    expect(() => parseFaultSettings(env)).toThrow(FaultSettingsError);
    expect(() => parseFaultSettings(env)).toThrow(message);
  });
});
