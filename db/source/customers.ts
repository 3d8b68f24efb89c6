import type { Readable } from 'node:stream';
import type { Pool, PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { ident, qualified } from '../copy';
import type { CompiledMapping, SourceRow } from '../../mapping/types';

type Db = Pool | PoolClient;

/** The source row of one customer code as it is now (the mapping's source columns), or null. */
export async function sourceRowByCode(db: Db, mapping: CompiledMapping, code: number): Promise<SourceRow | null> {
  const { schema, table, key, columns } = mapping.source;
  const result = await db.query(`SELECT ${columns.map(ident).join(', ')} FROM ${qualified(schema, table)} WHERE ${ident(key)} = $1`, [code]);
  return (result.rows[0] as SourceRow | undefined) ?? null;
}

/** How many rows the source table holds now (deleted-flagged ones too: a full run reads them all). */
export async function sourceRowCount(db: Db, mapping: CompiledMapping): Promise<number> {
  const { schema, table } = mapping.source;
  return (await db.query<{ n: number }>(`SELECT count(*)::bigint AS n FROM ${qualified(schema, table)}`)).rows[0].n;
}

/** Every customer code the source table holds, as COPY text out of `client` (one code a line). */
export function copyOutSourceCodes(client: PoolClient, mapping: CompiledMapping): Readable {
  const { schema, table, key } = mapping.source;
  return client.query(copyTo(`COPY (SELECT ${ident(key)} FROM ${qualified(schema, table)}) TO STDOUT`));
}
