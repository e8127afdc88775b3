// Reads the versioned SQL files shipped in migrations/ (NNNNNN-name.sql) and renders them for a schema.
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { quoteIdentifier } from "../sql/sql-identifier.js";

export interface MigrationFile {
  readonly version: number;
  readonly name: string;
  /** The SQL with the schema placeholder still in it. */
  readonly template: string;
}

const FILE_NAME = /^(\d{6})-([a-z0-9-]+)\.sql$/;
const SCHEMA_PLACEHOLDER = /:ESS_SCHEMA\b/g;

/** migrations/ sits at the package root, two levels above both src/ledger and dist/ledger. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations/", import.meta.url));

export async function readMigrationFiles(dir: string = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(".sql")).sort();
  const files: MigrationFile[] = [];
  for (const fileName of names) {
    const match = FILE_NAME.exec(fileName);
    if (!match?.[1] || !match[2]) throw new Error(`${dir}/${fileName}: migration files are named NNNNNN-name.sql`);
    const version = Number(match[1]);
    if (files.some((f) => f.version === version))
      throw new Error(`${dir}/${fileName}: version ${version} appears twice`);
    files.push({ version, name: match[2], template: await readFile(`${dir}/${fileName}`, "utf8") });
  }
  return files;
}

export function renderMigration(file: MigrationFile, schema: string): string {
  return file.template.replace(SCHEMA_PLACEHOLDER, quoteIdentifier(schema));
}
