import type { Client, Connection } from '@temporalio/client';
import { AppConfig, loadConfig } from '../config/env';
import { createPool } from '../db/pools';
import type { Pool } from 'pg';
import { connectClient } from '../lib/temporal';

/** Lazily opened connections of one CLI invocation, all closed by `close()`. */
export class CliContext {
  readonly config: AppConfig;
  private temporal?: { client: Client; connection: Connection };
  private stagingPool?: Pool;

  constructor(readonly json: boolean) {
    this.config = loadConfig();
  }

  async client(): Promise<Client> {
    this.temporal ??= await connectClient(this.config).catch((err: Error) => {
      throw Object.assign(new Error(`cannot reach Temporal at ${this.config.TEMPORAL_ADDRESS}: ${err.message}`), { name: 'TransportError' });
    });
    return this.temporal.client;
  }

  staging(): Pool {
    this.stagingPool ??= createPool({ url: this.config.STAGING_DATABASE_URL, role: 'staging', max: 2, applicationName: 'customer-migration:cli' });
    return this.stagingPool;
  }

  async close(): Promise<void> {
    await this.temporal?.connection.close().catch(() => undefined);
    await this.stagingPool?.end().catch(() => undefined);
  }
}
