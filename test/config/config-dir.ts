// Writes a configuration (ess.yaml, connectors/, mappings/) into a fresh temporary directory.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface ConfigDir {
  readonly dir: string;
  path(relative: string): string;
  remove(): Promise<void>;
}

/** `files` maps paths relative to the directory (e.g. "connectors/gis.yaml") to their text. */
export async function writeConfigDir(files: Readonly<Record<string, string>>): Promise<ConfigDir> {
  const dir = await mkdtemp(join(tmpdir(), "ess-config-"));
  await mkdir(join(dir, "connectors"));
  await mkdir(join(dir, "mappings"));
  for (const [relative, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, relative)), { recursive: true });
    await writeFile(join(dir, relative), text);
  }
  return {
    dir,
    path: (relative) => join(dir, relative),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Lines joined with newlines: keeps `${VAR}` literal and line numbers easy to count. */
export function yaml(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}
