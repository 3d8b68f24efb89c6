import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { inTransaction } from './transaction';
import { PROJECT_ROOT } from '../config/env';

export const SQL_DIR = path.join(PROJECT_ROOT, 'db', 'sql');

// One constant key for every process that migrates the staging schema (worker, CLI, tests).
const MIGRATION_LOCK_KEY = 7_220_415_001;

/** Numbered files (001_name.sql, 002_…) of one folder of db/sql, in order. */
export function migrationFiles(folder: 'staging' | 'source' | 'destination'): { version: number; name: string; file: string }[] {
  const dir = path.join(SQL_DIR, folder);
  return fs
    .readdirSync(dir)
    .filter((name) => /^\d{3}_[a-z0-9_]+\.sql$/.test(name))
    .sort()
    .map((name) => ({ version: Number(name.slice(0, 3)), name, file: path.join(dir, name) }));
}

/**
 * Applies the staging schema's pending migrations, each in its own transaction, under an advisory
 * lock so that several workers starting at once apply each file exactly once.
 */
export async function migrateStaging(connectionString: string): Promise<string[]> {
  const client = new Client({ connectionString, application_name: 'customer-migration:migrate' });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS migration_schema_version (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM migration_schema_version')).rows.map((r) => r.version));
    for (const migration of migrationFiles('staging')) {
      if (done.has(migration.version)) continue;
      try {
        await inTransaction(client, async () => {
          await client.query(fs.readFileSync(migration.file, 'utf8'));
          await client.query('INSERT INTO migration_schema_version (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        });
        applied.push(migration.name);
      } catch (err) {
        throw new Error(`staging migration ${migration.name} failed: ${(err as Error).message}`);
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
  return applied;
}

/** Runs the idempotent DDL of a folder (the local stack's source and destination tables). */
export async function applyDdl(connectionString: string, folder: 'source' | 'destination'): Promise<void> {
  const client = new Client({ connectionString, application_name: 'customer-migration:ddl' });
  await client.connect();
  try {
    for (const migration of migrationFiles(folder)) await client.query(fs.readFileSync(migration.file, 'utf8'));
  } finally {
    await client.end();
  }
}
