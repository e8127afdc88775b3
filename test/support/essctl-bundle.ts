// The essctl the tests start as a child process: src/cli/essctl.ts bundled once per test run by
// esbuild, with the packages left to node_modules. Starting node through the tsx loader costs
// 2–8 s of CPU per process on a loaded 2-core machine (every module is resolved and transformed
// in a loader thread); the suite starts a few hundred processes, so the bundle saves minutes.
//
// The bundle sits two folders below the package root, like src/<folder>/<module>.ts, so that
// every `new URL("../../…", import.meta.url)` in the source (migrations, package.json, the demo's
// files) resolves as it does from the source. It is built with ESS_TEST_BUILD defined, which lets
// the fault points fire (src/fault-points.ts); the package's own build never defines it.
import { mkdir, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Where the bundle is; a test worker reads it from here, the global set-up writes it. */
export const ESSCTL_BUNDLE = fileURLToPath(new URL("../../.test-build/cli/essctl.js", import.meta.url));

/** Node's arguments that start the bundled essctl; the command's own arguments follow. */
export const ESSCTL_NODE_ARGS: readonly string[] = ["--enable-source-maps", ESSCTL_BUNDLE];

/** Bundles essctl anew; a concurrent run in the same checkout sees the old file or the new one whole. */
export async function buildEssctlBundle(): Promise<void> {
  const partial = `${ESSCTL_BUNDLE}.${process.pid}.tmp`;
  await mkdir(dirname(ESSCTL_BUNDLE), { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: ["src/cli/essctl.ts"],
    outfile: partial,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: "inline",
    define: { ESS_TEST_BUILD: "true" },
    logLevel: "error",
  });
  await rename(partial, ESSCTL_BUNDLE);
}
