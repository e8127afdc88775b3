// Anything that runs one statement: a pool for single statements, a client when a transaction spans several.
import type pg from "pg";
import { isConnectionFailure } from "../sql/pg-error.js";

export type Queryable = pg.Pool | pg.ClientBase;

/**
 * Runs work on a pooled client. A checked-out client has no 'error' listener of the pool's, so
 * a connection lost meanwhile would be an uncaught exception: listen, and discard the client.
 */
export async function withPooledClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (error: Error) => {
    lost = error;
  };
  client.on("error", onError);
  try {
    return await work(client);
  } catch (error) {
    lost ??= error instanceof Error && isConnectionFailure(error) ? error : undefined;
    throw error;
  } finally {
    client.off("error", onError);
    client.release(lost);
  }
}
