/**
 * Catalog reads that mean the same on any of the three databases (server, role, table privileges,
 * columns, keys): what `migrate preflight` checks before a window. Read-only; each takes a pool or a
 * client (preflight runs them inside READ ONLY transactions).
 */
import { escapeIdentifier, type ClientBase, type Pool, type PoolClient } from 'pg';

type Db = Pool | PoolClient;

export interface ServerInfo {
  /** server_version, e.g. '17.10' */
  version: string;
  /** server_version_num, e.g. 171000 */
  versionNum: number;
  user: string;
  superuser: boolean;
  /** A hot standby: every transaction is read-only. */
  inRecovery: boolean;
  /** default_transaction_read_only is on for this session. */
  readOnlyByDefault: boolean;
  database: string;
}

export async function readServerInfo(db: Db): Promise<ServerInfo> {
  const row = (
    await db.query(
      `SELECT current_setting('server_version') AS version, current_setting('server_version_num')::int AS version_num,
            current_user AS "user", COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS superuser,
            pg_is_in_recovery() AS in_recovery, current_setting('default_transaction_read_only') = 'on' AS read_only,
            current_database() AS database`,
    )
  ).rows[0];
  return {
    version: row.version,
    versionNum: row.version_num,
    user: row.user,
    superuser: row.superuser,
    inRecovery: row.in_recovery,
    readOnlyByDefault: row.read_only,
    database: row.database,
  };
}

export interface TablePrivileges {
  exists: boolean;
  select: boolean;
  insert: boolean;
  update: boolean;
  delete: boolean;
  truncate: boolean;
  /** The current user owns the table (directly or through a role) or is a superuser: it may ALTER it, drop and create its indexes. */
  canAlter: boolean;
}

/** The current user's privileges on one table (all false when it does not exist). */
export async function readTablePrivileges(db: Db, schema: string, table: string): Promise<TablePrivileges> {
  const row = (
    await db.query(
      `SELECT c.oid IS NOT NULL AS exists,
            COALESCE(has_table_privilege(c.oid, 'SELECT'), false) AS select,
            COALESCE(has_table_privilege(c.oid, 'INSERT'), false) AS insert,
            COALESCE(has_table_privilege(c.oid, 'UPDATE'), false) AS update,
            COALESCE(has_table_privilege(c.oid, 'DELETE'), false) AS delete,
            COALESCE(has_table_privilege(c.oid, 'TRUNCATE'), false) AS truncate,
            COALESCE(pg_has_role(c.relowner, 'USAGE') OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS can_alter
       FROM (SELECT 1) one
       LEFT JOIN pg_class c ON c.oid = to_regclass(format('%I.%I', $1::text, $2::text))`,
      [schema, table],
    )
  ).rows[0];
  return {
    exists: row.exists,
    select: row.select,
    insert: row.insert,
    update: row.update,
    delete: row.delete,
    truncate: row.truncate,
    canAlter: row.can_alter,
  };
}

/** Whether the current user may create tables in a schema (the worker's staging migrations need it). */
export async function canCreateInSchema(db: Db, schema: string): Promise<boolean> {
  const row = (
    await db.query(`SELECT COALESCE(has_schema_privilege(n.oid, 'CREATE'), false) AS can FROM (SELECT 1) one LEFT JOIN pg_namespace n ON n.nspname = $1`, [
      schema,
    ])
  ).rows[0];
  return row.can;
}

export interface ColumnInfo {
  name: string;
  /** format_type: 'uuid', 'character varying(20)', 'timestamp with time zone', … */
  type: string;
  /** The base type's name (a domain's base type), e.g. 'uuid', 'varchar', 'timestamptz', 'jsonb'. */
  baseType: string;
  /** varchar(n) / char(n) length, else null. */
  maxLength: number | null;
  notNull: boolean;
  hasDefault: boolean;
}

/** A table's columns in order (an empty list when the table does not exist). */
export async function readTableColumns(db: Db, schema: string, table: string): Promise<ColumnInfo[]> {
  const result = await db.query(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            COALESCE(bt.typname, t.typname) AS base_type,
            CASE WHEN COALESCE(bt.typname, t.typname) IN ('varchar', 'bpchar') AND COALESCE(NULLIF(a.atttypmod, -1), NULLIF(t.typtypmod, -1)) > 4
                 THEN COALESCE(NULLIF(a.atttypmod, -1), t.typtypmod) - 4 END AS max_length,
            a.attnotnull OR COALESCE(t.typnotnull, false) AS not_null,
            a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '' AS has_default
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
      WHERE a.attrelid = to_regclass(format('%I.%I', $1::text, $2::text)) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [schema, table],
  );
  return result.rows.map((r) => ({
    name: r.name,
    type: r.type,
    baseType: r.base_type,
    maxLength: r.max_length,
    notNull: r.not_null,
    hasDefault: r.has_default,
  }));
}

/** information_schema's data_type (a domain's base type) of each column of `tables` in `schema`. */
export async function readColumnDataTypes(
  db: Db,
  schema: string,
  tables: readonly [string, string],
): Promise<{ table_name: string; column_name: string; data_type: string }[]> {
  const [first, second] = tables;
  const result = await db.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name IN ($2, $3)`,
    [schema, first, second],
  );
  return result.rows;
}

export interface KeyConstraint {
  name: string;
  kind: 'PRIMARY KEY' | 'UNIQUE' | 'FOREIGN KEY';
  columns: string[];
  /** For a foreign key: the referenced table (schema.table) and columns. */
  references: { table: string; columns: string[] } | null;
}

/**
 * Every key of `tables` (names in `schema`) as the catalog holds it, sorted by table and name: the
 * primary, unique and foreign key constraints, and every index, each with its definition as the
 * catalog prints it (pg_get_constraintdef / pg_get_indexdef) and its columns. The one reader of keys:
 * preflight (readTableKeys) and the bulk path (db/destination/keys.ts readKeys) take what they need.
 */
export interface CatalogKey {
  table: string;
  name: string;
  /** pg_constraint.contype ('p', 'u', 'f'), or 'i' for an index. */
  kind: 'p' | 'u' | 'f' | 'i';
  definition: string;
  columns: string[];
  /** For a foreign key: the referenced table (schema.table, unquoted) and columns. */
  references: { table: string; columns: string[] } | null;
  /** An index: unique, without a predicate or an expression. */
  plainUnique: boolean;
  /** An index that some constraint uses (conindid). */
  backsConstraint: boolean;
  /** An index that a primary key or unique constraint uses. */
  backsKey: boolean;
}

export async function readKeyCatalog(db: Db, schema: string, tables: readonly string[]): Promise<CatalogKey[]> {
  const result = await db.query(
    `SELECT c.relname AS "table", k.conname AS name, k.contype::text AS kind, pg_get_constraintdef(k.oid) AS definition,
            ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i)::text[] AS columns,
            CASE WHEN k.contype = 'f' THEN format('%s.%s', rn.nspname, rc.relname) END AS ref_table,
            CASE WHEN k.contype = 'f' THEN ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i)::text[] END AS ref_columns,
            false AS plain_unique, false AS backs_constraint, false AS backs_key
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_class rc ON rc.oid = k.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
     WHERE n.nspname = $1 AND c.relname = ANY($2) AND k.contype IN ('p', 'u', 'f')
     UNION ALL
     SELECT c.relname, i.relname, 'i', pg_get_indexdef(x.indexrelid),
            ARRAY(SELECT a.attname FROM unnest(x.indkey::int2[]) WITH ORDINALITY u(n, o) JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = u.n ORDER BY u.o)::text[],
            NULL, NULL,
            x.indisunique AND x.indpred IS NULL AND x.indexprs IS NULL,
            EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid),
            EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u'))
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = ANY($2)
     ORDER BY 1, 2`,
    [schema, tables],
  );
  return result.rows.map((r) => ({
    table: r.table,
    name: r.name,
    kind: r.kind,
    definition: r.definition,
    columns: r.columns,
    references: r.kind === 'f' ? { table: r.ref_table, columns: r.ref_columns } : null,
    plainUnique: r.plain_unique,
    backsConstraint: r.backs_constraint,
    backsKey: r.backs_key,
  }));
}

/** A table's primary key, unique constraints, unique indexes (without a predicate) and foreign keys. */
export async function readTableKeys(db: Db, schema: string, table: string): Promise<KeyConstraint[]> {
  const kinds = { p: 'PRIMARY KEY', u: 'UNIQUE', i: 'UNIQUE', f: 'FOREIGN KEY' } as const;
  return (await readKeyCatalog(db, schema, [table]))
    .filter((k) => k.kind !== 'i' || (k.plainUnique && !k.backsKey))
    .map((k) => ({ name: k.name, kind: kinds[k.kind], columns: k.columns, references: k.references }));
}

/** Whether the server holds a database of this name (run as an administrator, by the local stack). */
export async function databaseExists(db: Pick<ClientBase, 'query'>, name: string): Promise<boolean> {
  const exists = await db.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return exists.rowCount !== 0;
}

export async function createDatabase(db: Pick<ClientBase, 'query'>, name: string): Promise<void> {
  await db.query(`CREATE DATABASE ${escapeIdentifier(name)}`);
}
