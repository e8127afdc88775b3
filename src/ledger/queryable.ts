// Anything that runs one statement: a pool for single statements, a client when a transaction spans several.
import type pg from "pg";

export type Queryable = pg.Pool | pg.ClientBase;
