import type { Pool, PoolClient } from 'pg';

/** Runs `body` in one transaction on `client`: COMMIT when it returns, ROLLBACK when it throws. */
export async function inTransaction<T>(client: PoolClient, body: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await body();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** A pooled connection for one transaction, released whatever happens. */
export async function withTransaction<T>(pool: Pool, body: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await inTransaction(client, () => body(client));
  } finally {
    client.release();
  }
}
