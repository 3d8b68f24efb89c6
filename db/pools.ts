import { Pool, PoolConfig, types } from 'pg';
import { log } from '../lib/log';

// Timestamps stay PostgreSQL's own text: a JS Date would drop the microseconds the contract keeps.
types.setTypeParser(1184 /* timestamptz */, (value) => value);
types.setTypeParser(1114 /* timestamp */, (value) => value);
types.setTypeParser(1082 /* date */, (value) => value);
types.setTypeParser(20 /* int8: counts, run ids */, (value) => Number(value));

export type DatabaseRole = 'source' | 'staging' | 'destination';

export interface PoolOptions {
  url: string;
  role: DatabaseRole;
  max?: number;
  statementTimeoutMs?: number;
  applicationName?: string;
}

/** A pool with a recognisable application_name, UTC sessions and bounded waits. */
export function createPool({ url, role, max = 4, statementTimeoutMs = 300_000, applicationName }: PoolOptions): Pool {
  const config: PoolConfig = {
    connectionString: url,
    max,
    application_name: applicationName ?? `customer-migration:${role}`,
    connectionTimeoutMillis: 10_000,
    // A peer that vanishes without closing (a dropped network path) is noticed by TCP keepalive.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: statementTimeoutMs,
    // Timestamps are read and printed as PostgreSQL's own text: UTC and ISO whatever the server's defaults.
    options: '-c TimeZone=UTC -c DateStyle=ISO,MDY',
  };
  const pool = new Pool(config);
  // An idle client that loses its connection (server restart, pg_terminate_backend) must not crash the
  // process: the next query gets a fresh connection and activities retry.
  pool.on('error', (err) => log('warn', 'idle PostgreSQL client lost', { role, error: err }));
  // A client that is checked out when its connection dies (pg_terminate_backend, a server restart,
  // a network cut) emits 'error' too, and pg-pool listens only on idle clients: without this
  // listener that event is unhandled and takes the whole worker down. The query in flight fails
  // (the activity retries), and pg-pool discards the broken client on release.
  pool.on('connect', (client) => {
    client.on('error', (err) => log('warn', 'PostgreSQL connection lost', { role, error: err }));
  });
  return pool;
}

export interface Pools {
  source: Pool;
  staging: Pool;
  destination: Pool;
}

export function createPools(
  urls: { source: string; staging: string; destination: string },
  options: { max?: number; statementTimeoutMs?: number } = {},
): Pools {
  return {
    source: createPool({ url: urls.source, role: 'source', ...options }),
    staging: createPool({ url: urls.staging, role: 'staging', ...options }),
    destination: createPool({ url: urls.destination, role: 'destination', ...options }),
  };
}

export async function closePools(pools: Pools): Promise<void> {
  await Promise.allSettled([pools.source.end(), pools.staging.end(), pools.destination.end()]);
}
