// The ledger's typed query builder: a Kysely<LedgerSchema> over whatever the caller holds (a pool,
// or one client inside a transaction it opened), with every table in the configured schema.
import {
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type QueryResult,
  type RawBuilder,
  sql,
} from "kysely";
import pg from "pg";
import type { LedgerSchema, LedgerTableName } from "./ledger-schema.js";
import { checkOutClient, type Queryable } from "./queryable.js";

export type LedgerDb = Kysely<LedgerSchema>;

/** One Kysely per (queryable, schema): a pooled client is reused for many claims, so is its builder. */
const built = new WeakMap<Queryable, Map<string, LedgerDb>>();

/**
 * The ledger's tables in `schema`, queried through `queryable`. Over a pool, each statement (or
 * `db.transaction()`) checks out a client the way withPooledClient does; over a client, every
 * statement runs on it, so it joins whatever transaction the caller has open there.
 */
export function ledgerDb(queryable: Queryable, schema: string): LedgerDb {
  let bySchema = built.get(queryable);
  if (!bySchema) {
    bySchema = new Map();
    built.set(queryable, bySchema);
  }
  let db = bySchema.get(schema);
  if (!db) {
    db = new Kysely<LedgerSchema>({ dialect: new QueryableDialect(queryable) }).withSchema(schema);
    bySchema.set(schema, db);
  }
  return db;
}

/**
 * A ledger table for kysely's `sql` template: hand-tuned statements name their tables with it,
 * since withSchema does not reach inside raw SQL.
 */
export function ledgerTable(schema: string, table: LedgerTableName): RawBuilder<unknown> {
  return sql.id(schema, table);
}

/** The rows a raw statement changed (kysely reports it as a bigint, or not at all for a SELECT). */
export function affectedRows(result: QueryResult<unknown>): number {
  return Number(result.numAffectedRows ?? 0n);
}

class QueryableDialect implements Dialect {
  constructor(private readonly queryable: Queryable) {}
  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new QueryableDriver(this.queryable);
  }
  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}

class QueryableDriver implements Driver {
  constructor(private readonly queryable: Queryable) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (!(this.queryable instanceof pg.Pool)) return new ClientConnection(this.queryable, () => undefined);
    const checkedOut = await checkOutClient(this.queryable);
    return new ClientConnection(checkedOut.client, checkedOut.release);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as ClientConnection).run("begin");
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as ClientConnection).run("commit");
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as ClientConnection).run("rollback");
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    (connection as ClientConnection).release();
  }

  /** The pool or client belongs to the caller: nothing here ends it. */
  async destroy(): Promise<void> {}
}

class ClientConnection implements DatabaseConnection {
  private failure: Error | undefined;
  constructor(
    private readonly client: pg.ClientBase,
    private readonly onRelease: (failure?: Error) => void,
  ) {}

  async run(text: string): Promise<void> {
    await this.client.query(text);
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const result = await this.client.query(compiled.sql, [...compiled.parameters]);
      const counted = ["INSERT", "UPDATE", "DELETE", "MERGE"].includes(result.command);
      return {
        rows: (result.rows ?? []) as R[],
        ...(counted ? { numAffectedRows: BigInt(result.rowCount ?? 0) } : {}),
      };
    } catch (error) {
      // The error stays the one node-postgres threw (its SQLSTATE is what callers sort by).
      if (error instanceof Error) this.failure = error;
      throw error;
    }
  }

  // biome-ignore lint/correctness/useYield: the ledger reads no result as a stream
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("the ledger does not stream query results");
  }

  release(): void {
    this.onRelease(this.failure);
  }
}
