import type { Readable } from 'node:stream';
import { escapeLiteral, type Pool, type PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { ident, qualified } from '../copy';
import type { CompiledMapping, SourceRow } from '../../mapping/types';
import { readSetDigest, type SetDigest } from '../set-digest';

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

/** The set digest (db/set-digest.ts) of the customer codes the source table holds now. */
export async function sourceCodeSetDigest(db: Db, mapping: CompiledMapping): Promise<SetDigest> {
  const { schema, table, key } = mapping.source;
  return readSetDigest(db, ident(key), `FROM ${qualified(schema, table)}`);
}

/** Every customer code the source table holds, as COPY text out of `client` (one code a line). */
export function copyOutSourceCodes(client: PoolClient, mapping: CompiledMapping): Readable {
  const { schema, table, key } = mapping.source;
  return client.query(copyTo(`COPY (SELECT ${ident(key)} FROM ${qualified(schema, table)}) TO STDOUT`));
}

/** One chunk of the source in key order: `columns` of the rows after key `after` (null: from the start), changed since `since` (null: all). */
export interface SourceChunk {
  columns: readonly string[];
  after: number | null;
  since: string | null;
  chunkSize: number;
}

const sinceCondition = (mapping: CompiledMapping, since: string) => `${ident(mapping.source.watermark)} >= ${escapeLiteral(since)}::timestamptz`;

function chunkSelect(mapping: CompiledMapping, { columns, after, since, chunkSize }: SourceChunk): string {
  const { schema, table, key } = mapping.source;
  const conditions = [after === null ? null : `${ident(key)} > ${Number(after)}`, since === null ? null : sinceCondition(mapping, since)].filter(Boolean);
  return `SELECT ${columns.map(ident).join(', ')} FROM ${qualified(schema, table)}
      ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''} ORDER BY ${ident(key)} LIMIT ${Number(chunkSize)}`;
}

/** A chunk's rows as COPY text out of `client`. */
export function copyOutChunk(client: PoolClient, mapping: CompiledMapping, chunk: SourceChunk): Readable {
  return client.query(copyTo(`COPY (${chunkSelect(mapping, chunk)}) TO STDOUT`));
}

/** A chunk's rows as COPY text out of `client`, each with `runId` appended as a last field (the shape of stg_customer's rows). */
export function copyOutChunkForRun(client: PoolClient, mapping: CompiledMapping, chunk: SourceChunk, runId: number): Readable {
  return client.query(copyTo(`COPY (SELECT *, ${Number(runId)}::bigint FROM (${chunkSelect(mapping, chunk)}) chunk) TO STDOUT`));
}

/** How many rows the source holds that changed since `since` (null: all of them). */
export async function countRowsSince(db: Db, mapping: CompiledMapping, since: string | null): Promise<number> {
  const { schema, table } = mapping.source;
  return (await db.query(`SELECT count(*)::int AS n FROM ${qualified(schema, table)} ${since === null ? '' : `WHERE ${sinceCondition(mapping, since)}`}`))
    .rows[0].n;
}
