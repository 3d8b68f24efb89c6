import { pipeline } from 'node:stream/promises';
import { Pool } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { applyDdl } from '../db/migrate';
import { dropKeys, keyDifferences, readKeys, rebuildKeys } from '../db/destination/keys';
import { inTransaction } from '../db/transaction';

const TABLES = ['customer', 'customer_profile'] as const;

/**
 * The bulk-load limit: what PostgreSQL needs to write exactly the rows the run wrote, the way a bulk
 * loader does. The rows are read back out of the run's destination and COPYed into empty copies of
 * both tables (in a database of their own) that have no primary, unique or foreign keys, which are
 * then built (both tables' keys in parallel sessions, the foreign key last). Reading back, COPY and
 * the key builds are all timed; the rebuilt keys are checked against the catalog's before.
 */
export async function measureBulkLimit(destinationUrl: string, bulkUrl: string): Promise<{ seconds: number; rows: number }> {
  await applyDdl(bulkUrl, 'destination');
  const bulk = new Pool({ connectionString: bulkUrl, max: 3, application_name: 'customer-migration:bench-bulk', options: '-c TimeZone=UTC' });
  const destination = new Pool({ connectionString: destinationUrl, max: 2, application_name: 'customer-migration:bench-bulk', options: '-c TimeZone=UTC' });
  try {
    await bulk.query(`TRUNCATE customer_profile, customer`);
    const keys = await readKeys(bulk, 'public', TABLES);
    const client = await bulk.connect();
    try {
      await inTransaction(client, () => dropKeys(client, 'public', keys));
    } finally {
      client.release();
    }
    await bulk.query('CHECKPOINT');

    const started = process.hrtime.bigint();
    const copied = await Promise.all(
      TABLES.map(async (table) => {
        const [from, to] = await Promise.all([destination.connect(), bulk.connect()]);
        try {
          const into = to.query(copyFrom(`COPY ${table} FROM STDIN`));
          await pipeline(from.query(copyTo(`COPY ${table} TO STDOUT`)), into);
          return Number(into.rowCount);
        } finally {
          from.release();
          to.release();
        }
      }),
    );
    await rebuildKeys(() => bulk.connect(), 'public', keys, 2);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;

    const differences = keyDifferences(keys, await readKeys(bulk, 'public', TABLES));
    if (differences.length) throw new Error(`the bulk limit's rebuilt keys differ from the destination's: ${differences.join('; ')}`);
    return { seconds, rows: copied[0] };
  } finally {
    await Promise.allSettled([bulk.end(), destination.end()]);
  }
}
