import type { Pool, PoolClient } from 'pg';
import { readKeyCatalog } from '../catalog';
import { ident, qualified } from '../copy';

type Queryable = Pool | PoolClient;

/**
 * The keys of the destination tables a bulk load drops and rebuilds: primary keys, unique
 * constraints, foreign keys and plain indexes, each with its definition as the catalog prints it
 * (pg_get_constraintdef / pg_get_indexdef), so that what is rebuilt can be compared with what was.
 * NOT NULL and CHECK constraints stay: they cost little per row and keep every row checked.
 */
export interface TableKey {
  table: string;
  name: string;
  kind: 'primary' | 'unique' | 'foreign' | 'index';
  definition: string;
}

/** Keys in the order they are rebuilt: primary and unique first (a foreign key needs its target's), then the rest. */
const REBUILD_ORDER: Record<TableKey['kind'], number> = { primary: 0, unique: 1, index: 2, foreign: 3 };

/** The keys of `tables` (names in `schema`), sorted by table and name: constraints, and the indexes no constraint uses. */
export async function readKeys(db: Queryable, schema: string, tables: readonly string[]): Promise<TableKey[]> {
  const kinds = { p: 'primary', u: 'unique', f: 'foreign', i: 'index' } as const;
  return (await readKeyCatalog(db, schema, tables))
    .filter((k) => k.kind !== 'i' || !k.backsConstraint)
    .map((k) => ({ table: k.table, name: k.name, kind: kinds[k.kind], definition: k.definition }));
}

/** Foreign keys of other tables that point at `tables`: a bulk load cannot drop their targets' keys. */
export async function readReferencingKeys(db: Queryable, schema: string, tables: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT format('%s on %s', k.conname, k.conrelid::regclass) AS name
     FROM pg_constraint k JOIN pg_class t ON t.oid = k.confrelid JOIN pg_namespace n ON n.oid = t.relnamespace
     JOIN pg_class c ON c.oid = k.conrelid
     WHERE k.contype = 'f' AND n.nspname = $1 AND t.relname = ANY($2) AND NOT (c.relname = ANY($2) AND c.relnamespace = t.relnamespace)`,
    [schema, tables],
  );
  return rows.map((r) => r.name);
}

/** Drops the keys (foreign keys first), inside the caller's transaction; those already gone are skipped. */
export async function dropKeys(db: PoolClient, schema: string, keys: readonly TableKey[]): Promise<void> {
  const order = [...keys].sort((a, b) => REBUILD_ORDER[b.kind] - REBUILD_ORDER[a.kind]);
  for (const k of order) {
    if (k.kind === 'index') await db.query(`DROP INDEX IF EXISTS ${qualified(schema, k.name)}`);
    else await db.query(`ALTER TABLE ${qualified(schema, k.table)} DROP CONSTRAINT IF EXISTS ${ident(k.name)}`);
  }
}

/**
 * Rebuilds the keys that are missing (idempotent: a key already present by name is left as it is,
 * and compared by the caller). The primary and unique keys of different tables are built in
 * parallel sessions (`connections`), each table's one after another; foreign keys last.
 */
export async function rebuildKeys(connect: () => Promise<PoolClient>, schema: string, keys: readonly TableKey[], connections = 2): Promise<void> {
  const present = new Set((await withClient(connect, (c) => readKeys(c, schema, [...new Set(keys.map((k) => k.table))]))).map((k) => `${k.table}.${k.name}`));
  const missing = keys.filter((k) => !present.has(`${k.table}.${k.name}`));
  const build = (db: PoolClient, k: TableKey) =>
    db.query(k.kind === 'index' ? k.definition : `ALTER TABLE ${qualified(schema, k.table)} ADD CONSTRAINT ${ident(k.name)} ${k.definition}`);
  const byTable = new Map<string, TableKey[]>();
  for (const k of missing.filter((m) => m.kind !== 'foreign')) byTable.set(k.table, [...(byTable.get(k.table) ?? []), k]);
  const queues = [...byTable.values()].map((list) => list.sort((a, b) => REBUILD_ORDER[a.kind] - REBUILD_ORDER[b.kind]));
  const lanes = Array.from({ length: Math.max(1, Math.min(connections, queues.length)) }, async () => {
    for (let q = queues.shift(); q; q = queues.shift()) {
      const list = q;
      await withClient(connect, async (db) => {
        for (const k of list) await build(db, k);
      });
    }
  });
  await Promise.all(lanes);
  const foreign = missing.filter((k) => k.kind === 'foreign');
  if (foreign.length)
    await withClient(connect, async (db) => {
      for (const k of foreign) await build(db, k);
    });
}

/** The differences between the keys saved and the keys the catalog holds now ('' when the same). */
export function keyDifferences(saved: readonly TableKey[], now: readonly TableKey[]): string[] {
  const text = (k: TableKey) => `${k.table}.${k.name} (${k.kind}) ${k.definition}`;
  const have = new Set(now.map(text));
  const had = new Set(saved.map(text));
  return [
    ...saved.filter((k) => !have.has(text(k))).map((k) => `missing: ${text(k)}`),
    ...now.filter((k) => !had.has(text(k))).map((k) => `unexpected: ${text(k)}`),
  ];
}

async function withClient<T>(connect: () => Promise<PoolClient>, body: (db: PoolClient) => Promise<T>): Promise<T> {
  const db = await connect();
  try {
    return await body(db);
  } finally {
    db.release();
  }
}

/**
 * Why the migration user may not take the bulk path on `tables` right now (none: it may): a table
 * holds rows, is not the user's to alter, or is in use by another session.
 */
export async function bulkObstacles(db: Queryable, schema: string, tables: readonly string[]): Promise<string[]> {
  const reasons: string[] = [];
  for (const table of tables) {
    const { rows } = await db.query<{ rows: boolean; owner: boolean; others: number }>(
      `SELECT EXISTS (SELECT 1 FROM ${qualified(schema, table)}) AS rows,
              pg_has_role(current_user, c.relowner, 'USAGE') AS owner,
              (SELECT count(*)::int FROM pg_locks l WHERE l.relation = c.oid AND l.pid <> pg_backend_pid()) AS others
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      [schema, table],
    );
    const r = rows[0];
    if (r.rows) reasons.push(`${table} holds rows`);
    if (!r.owner) reasons.push(`the migration user may not alter ${table} (not its owner)`);
    if (r.others) reasons.push(`${table} is in use by another session (${r.others} lock(s))`);
  }
  return reasons;
}

/** The first key values that a unique key being rebuilt finds twice (for the run's error). */
export async function duplicateKeys(db: Queryable, schema: string, key: TableKey, limit = 20): Promise<string[]> {
  const columns = /\(([^)]*)\)/.exec(key.definition)?.[1];
  if (!columns) return [];
  const { rows } = await db.query<{ k: string }>(
    `SELECT (${columns})::text AS k FROM ${qualified(schema, key.table)} GROUP BY ${columns} HAVING count(*) > 1 ORDER BY 1 LIMIT ${Number(limit)}`,
  );
  return rows.map((r) => r.k);
}

/** Takes both tables' ACCESS EXCLUSIVE locks inside the caller's transaction, NOWAIT: a session using them fails it with lock_not_available. */
export async function lockTablesNoWait(db: PoolClient, schema: string, tables: readonly string[]): Promise<void> {
  await db.query(`LOCK TABLE ${tables.map((t) => `${ident(schema)}.${ident(t)}`).join(', ')} IN ACCESS EXCLUSIVE MODE NOWAIT`);
}

/** Fresh planner statistics for `tables`. */
export async function analyzeTables(db: Queryable, schema: string, tables: readonly string[]): Promise<void> {
  await db.query(`ANALYZE ${tables.map((t) => `${ident(schema)}.${ident(t)}`).join(', ')}`);
}
