import type { ClientBase, Pool, PoolClient } from 'pg';

/** How a transaction ends when its body succeeds: a plain COMMIT unless the caller fences it. */
export type Commit = (client: ClientBase) => Promise<unknown>;
export const commitPlain: Commit = (client) => client.query('COMMIT');

/** Runs `body` in one transaction on `client`: `commit` (COMMIT) when it returns, ROLLBACK when it or the commit throws. */
export async function inTransaction<T>(client: ClientBase, body: () => Promise<T>, commit: Commit = commitPlain): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await body();
    await commit(client);
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** A pooled connection for one transaction, released whatever happens. */
export async function withTransaction<T>(pool: Pool, body: (client: PoolClient) => Promise<T>, commit?: Commit): Promise<T> {
  const client = await pool.connect();
  try {
    return await inTransaction(client, () => body(client), commit);
  } finally {
    client.release();
  }
}

/**
 * A pooled connection for one READ ONLY transaction, always rolled back: PostgreSQL refuses any write
 * inside it (and a read-only transaction is never given a transaction id), so whatever `body` runs
 * writes nothing.
 */
export async function withReadOnlyTransaction<T>(pool: Pool, body: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN TRANSACTION READ ONLY');
    return await body(client);
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}
