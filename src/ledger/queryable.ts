// Anything that runs one statement: a pool for single statements, a client when a transaction spans several.
import type pg from "pg";
import { isConnectionFailure } from "../sql/pg-error.js";

export type Queryable = pg.Pool | pg.ClientBase;

export interface CheckedOutClient {
  readonly client: pg.PoolClient;
  /** Returns the client to the pool, or discards it when its connection was lost (`failure` says how the work ended). */
  release(failure?: unknown): void;
}

/**
 * Checks out a pooled client. A checked-out client has no 'error' listener of the pool's, so a
 * connection lost meanwhile would be an uncaught exception: listen until it is released, and
 * discard it rather than hand a dead connection to the next borrower.
 */
export async function checkOutClient(pool: pg.Pool): Promise<CheckedOutClient> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost = error;
  };
  client.on("error", onError);
  return {
    client,
    release(failure?: unknown) {
      lost ??= failure instanceof Error && isConnectionFailure(failure) ? failure : undefined;
      client.off("error", onError);
      client.release(lost);
    },
  };
}

/** Runs work on a pooled client (see checkOutClient). */
export async function withPooledClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const { client, release } = await checkOutClient(pool);
  let failure: unknown;
  try {
    return await work(client);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    release(failure);
  }
}
