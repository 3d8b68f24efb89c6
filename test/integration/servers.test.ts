import * as assert from 'node:assert/strict';
import { Client, escapeIdentifier } from 'pg';
import { createPool } from '../../db/pools';
import { MIGRATION_SEARCH_ATTRIBUTES } from '../../stack/temporal-cli';
import { useTestServers } from '../support/servers';

const TASK_QUEUE_TYPE_WORKFLOW = 1; // temporal.api.enums.v1.TaskQueueType

async function query<T extends Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('integration test servers', function () {
  const servers = useTestServers();

  it('run three real PostgreSQL databases, isolated from the local stack, with their schemas', async () => {
    const { urls } = servers();
    const expectedTable = { source: 'efz_customer', staging: 'stg_customer', destination: 'customer' };
    for (const role of ['source', 'staging', 'destination'] as const) {
      assert.notEqual(new URL(urls[role]).port, '55432');
      const [row] = await query<{ version: string; tables: string[] }>(
        urls[role],
        "SELECT version(), array_agg(tablename::text ORDER BY tablename) AS tables FROM pg_tables WHERE schemaname = 'public'",
      );
      assert.match(row.version, /^PostgreSQL \d+/);
      assert.ok(row.tables.includes(expectedTable[role]), `${role}: ${row.tables.join(', ')}`);
    }
  });

  it('resetDatabases() empties the tables but keeps the staging schema version', async () => {
    const { urls, resetDatabases } = servers();
    await query(urls.staging, "INSERT INTO branch_map VALUES ('001', gen_random_uuid(), 'Head office')");
    await resetDatabases();
    const [{ n }] = await query<{ n: number }>(urls.staging, 'SELECT count(*)::int AS n FROM branch_map');
    assert.equal(n, 0);
    const [{ versions }] = await query<{ versions: number }>(urls.staging, 'SELECT count(*)::int AS versions FROM migration_schema_version');
    assert.ok(versions >= 1);
  });

  it("service pools read timestamps as UTC ISO text whatever the database's DateStyle and TimeZone", async () => {
    const { urls } = servers();
    const database = escapeIdentifier(decodeURIComponent(new URL(urls.source).pathname.slice(1)));
    await query(urls.source, `ALTER DATABASE ${database} SET DateStyle = 'SQL, DMY'`);
    await query(urls.source, `ALTER DATABASE ${database} SET TimeZone = 'Africa/Lagos'`);
    const pool = createPool({ url: urls.source, role: 'source' });
    try {
      const sql = "SELECT '2024-01-02 03:04:05.123456+00'::timestamptz::text AS t";
      const [plain] = await query<{ t: string }>(urls.source, sql);
      assert.equal(plain.t, '02/01/2024 04:04:05.123456 WAT', 'the database defaults apply to other connections');
      assert.equal((await pool.query(sql)).rows[0].t, '2024-01-02 03:04:05.123456+00');
    } finally {
      await pool.end();
      await query(urls.source, `ALTER DATABASE ${database} RESET DateStyle`);
      await query(urls.source, `ALTER DATABASE ${database} RESET TimeZone`);
    }
  });

  it('run a real Temporal server with the namespace, the search attributes and a describable task queue', async () => {
    const { temporal } = servers();
    const { namespaces } = await temporal.connection.workflowService.listNamespaces({});
    assert.ok(
      namespaces.some((ns) => ns.namespaceInfo?.name === temporal.namespace),
      'namespace listed',
    );

    const { customAttributes } = await temporal.connection.operatorService.listSearchAttributes({ namespace: temporal.namespace });
    for (const name of Object.keys(MIGRATION_SEARCH_ATTRIBUTES)) assert.ok(customAttributes && name in customAttributes, name);

    const queue = await temporal.client.workflowService.describeTaskQueue({
      namespace: temporal.namespace,
      taskQueue: { name: 'customer-migration' },
      taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
    });
    assert.deepEqual(queue.pollers ?? [], []);
  });
});
