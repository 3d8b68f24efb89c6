import type { Client, Connection } from '@temporalio/client';
import { AppConfig, loadConfig } from '../config/env';
import { createPool } from '../db/pools';
import type { Pool } from 'pg';
import { connectClient } from '../lib/temporal';
import { loadMappingFile, type CompiledMapping } from '../mapping';

/** Lazily opened connections of one CLI invocation, all closed by `close()`. */
export class CliContext {
  readonly config: AppConfig;
  private temporal?: { client: Client; connection: Connection };
  private stagingPool?: Pool;
  private sourcePool?: Pool;
  private destinationPool?: Pool;
  private compiled?: CompiledMapping;

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

  /** The source database, for commands that read it (explain, compare's projection). */
  source(): Pool {
    this.sourcePool ??= createPool({ url: this.config.SOURCE_DATABASE_URL, role: 'source', max: 1, applicationName: 'customer-migration:cli' });
    return this.sourcePool;
  }

  /** The destination database, for commands that read it (verify-report, explain). */
  destination(): Pool {
    this.destinationPool ??= createPool({ url: this.config.DESTINATION_DATABASE_URL, role: 'destination', max: 2, applicationName: 'customer-migration:cli' });
    return this.destinationPool;
  }

  /** The mapping document of this configuration, compiled once. */
  mapping(): CompiledMapping {
    this.compiled ??= loadMappingFile(this.config.MAPPING_FILE, {
      tenantId: this.config.TENANT_ID,
      migrationUserId: this.config.MIGRATION_USER_ID,
      migrationUserName: this.config.MIGRATION_USER_NAME,
    });
    return this.compiled;
  }

  async close(): Promise<void> {
    await this.temporal?.connection.close().catch(() => undefined);
    await Promise.all([this.stagingPool, this.sourcePool, this.destinationPool].map((p) => p?.end().catch(() => undefined)));
  }
}
