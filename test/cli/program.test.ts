import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { type EssctlCommand, EXIT, UsageError } from "../../src/cli/cli-options.js";
import { runEssctl } from "../../src/cli/program.js";
import { ConfigError, ConfigErrors, registerSecret } from "../../src/config/index.js";

interface Seen {
  args?: readonly string[];
  options?: Readonly<Record<string, unknown>>;
  configPath?: string;
  json?: boolean;
}

/** A registry like essctl.ts builds, with commands whose behaviour each test chooses. */
function registry(seen: Seen, fail?: () => never): EssctlCommand[] {
  return [
    {
      usage: "pause <connector>",
      description: "hold a connector",
      configure: (command) => command.option("--reason <text>"),
      async run(context, args, options) {
        Object.assign(seen, { args, options, configPath: context.configPath, json: context.json });
        fail?.();
        context.output.print(`paused ${args[0]}`);
        return EXIT.ok;
      },
    },
    {
      usage: "stats",
      description: "print numbers",
      json: true,
      async run(context) {
        if (context.json) context.output.printJson({ pending: 3n });
        else context.output.print("pending 3");
        return EXIT.ok;
      },
    },
  ];
}

async function run(commands: EssctlCommand[], argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const code = await runEssctl(commands, argv, { stdout, stderr, env: {}, signal: new AbortController().signal });
  return { code, out, err };
}

describe("the essctl command registry", () => {
  it("hands a command its arguments, its options and the global ones", async () => {
    const seen: Seen = {};
    const result = await run(registry(seen), [
      "pause",
      "city_hall_cobol",
      "--reason",
      "maintenance",
      "--config",
      "/etc/ess/ess.yaml",
    ]);
    expect(result).toEqual({ code: 0, out: "paused city_hall_cobol\n", err: "" });
    expect(seen.args).toEqual(["city_hall_cobol"]);
    expect(seen.options).toMatchObject({ reason: "maintenance" });
    expect(seen.configPath).toBe("/etc/ess/ess.yaml");
    expect(seen.json).toBe(false);
  });

  it("accepts --json before or after the command, and prints bigints as text", async () => {
    const before = await run(registry({}), ["--json", "stats"]);
    const after = await run(registry({}), ["stats", "--json"]);
    expect(before).toEqual({ code: 0, out: '{\n  "pending": "3"\n}\n', err: "" });
    expect(after).toEqual(before);
  });

  it("refuses --json on a command that prints no data", async () => {
    const result = await run(registry({}), ["pause", "x", "--json"]);
    expect(result.code).toBe(2);
    expect(result.err).toContain("pause prints no data: --json does not apply");
  });

  it("exits 2 on a missing argument", async () => {
    const result = await run(registry({}), ["pause"]);
    expect(result.code).toBe(2);
    expect(result.err).toContain("missing required argument 'connector'");
  });

  it.each([
    ["a usage error", () => new UsageError("--limit must be a number"), 2, "error: --limit must be a number"],
    [
      "configuration errors",
      () => new ConfigErrors([new ConfigError({ file: "/x/ess.yaml", line: 3, column: 5, path: ["http"] }, "bad")]),
      2,
      "/x/ess.yaml:3:5: http: bad",
    ],
    [
      "a runtime failure",
      () => new Error("connect failed for postgres://ess:Run-Time-Pw@db/hms", { cause: new Error("ECONNREFUSED") }),
      1,
      "essctl: Error: connect failed for postgres://ess:***@db/hms (caused by: Error: ECONNREFUSED)",
    ],
    [
      "a registered secret in a message",
      () => new Error("token Reg-Secret-42 refused"),
      1,
      "essctl: Error: token *** refused",
    ],
  ])("turns %s into its exit code with a redacted message", async (_what, error, code, message) => {
    registerSecret("Reg-Secret-42");
    const result = await run(
      registry({}, () => {
        throw error();
      }),
      ["pause", "x"],
    );
    expect(result.code).toBe(code);
    expect(result.err).toBe(`${message}\n`);
    expect(result.out).toBe("");
  });
});
