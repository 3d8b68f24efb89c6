import * as fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { ConfigError, type AppConfig } from '../config/env';
import { searchAttributeKeys } from '../workflows/definitions';

function readPem(variable: string, file: string | undefined): Buffer | undefined {
  if (!file) return undefined;
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * TLS for the Temporal connection (client and worker alike), from the TEMPORAL_TLS* settings:
 * - none of them (and no API key): plaintext, as the local dev server wants;
 * - TEMPORAL_TLS=true: TLS, server verified against the system CAs;
 * - TEMPORAL_TLS_CA_PATH: verified against that CA instead (a private cluster);
 * - TEMPORAL_TLS_CERT_PATH + TEMPORAL_TLS_KEY_PATH: mTLS, this client certificate is presented;
 * - TEMPORAL_TLS_SERVER_NAME: the name the server certificate must carry (and SNI), when it differs
 *   from the host of TEMPORAL_ADDRESS.
 * Any of them turns TLS on; so does TEMPORAL_API_KEY (an API key never travels in plaintext).
 */
export function temporalTls(config: AppConfig): TLSConfig | undefined {
  const wanted =
    config.TEMPORAL_TLS ||
    Boolean(
      config.TEMPORAL_TLS_CERT_PATH ||
      config.TEMPORAL_TLS_KEY_PATH ||
      config.TEMPORAL_TLS_CA_PATH ||
      config.TEMPORAL_TLS_SERVER_NAME ||
      config.TEMPORAL_API_KEY,
    );
  if (!wanted) return undefined;
  const crt = readPem('TEMPORAL_TLS_CERT_PATH', config.TEMPORAL_TLS_CERT_PATH);
  const key = readPem('TEMPORAL_TLS_KEY_PATH', config.TEMPORAL_TLS_KEY_PATH);
  if (Boolean(crt) !== Boolean(key)) throw new ConfigError('mTLS needs both TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH');
  const tls: TLSConfig = {};
  if (config.TEMPORAL_TLS_SERVER_NAME) tls.serverNameOverride = config.TEMPORAL_TLS_SERVER_NAME;
  const ca = readPem('TEMPORAL_TLS_CA_PATH', config.TEMPORAL_TLS_CA_PATH);
  if (ca) tls.serverRootCACertificate = ca;
  if (crt && key) tls.clientCertPair = { crt, key };
  return tls;
}

/** Options of both the client `Connection` and the worker's `NativeConnection`. */
export function connectionOptions(config: AppConfig) {
  return { address: config.TEMPORAL_ADDRESS, tls: temporalTls(config), ...(config.TEMPORAL_API_KEY ? { apiKey: config.TEMPORAL_API_KEY } : {}) };
}

/** Connects the client; errors are the SDK's (callers name the address in their message). */
export async function connectClient(config: AppConfig): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ ...connectionOptions(config), connectTimeout: '10s' });
  return { client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }), connection };
}

/** The custom search attributes the workflow would set that the namespace lacks (throws when it cannot tell). */
export async function missingSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const response = await client.connection.operatorService.listSearchAttributes({ namespace });
  const names = Object.keys(response.customAttributes ?? {});
  return Object.values(searchAttributeKeys)
    .map((k) => k.name)
    .filter((name) => !names.includes(name));
}

/** Whether the namespace has the custom search attributes the workflow would set. */
export async function hasSearchAttributes(client: Client, namespace: string): Promise<boolean> {
  try {
    return (await missingSearchAttributes(client, namespace)).length === 0;
  } catch {
    return false;
  }
}

export interface TaskQueuePoller {
  identity: string;
  /** When the poller last asked for a task (epoch ms), or null when the server did not say. */
  lastAccessMs: number | null;
}

/** The pollers Temporal has seen on a task queue (DescribeTaskQueue), for workflow and activity tasks. */
export async function taskQueuePollers(
  client: Client,
  namespace: string,
  taskQueue: string,
): Promise<{ workflow: TaskQueuePoller[]; activity: TaskQueuePoller[] }> {
  const describe = async (taskQueueType: 1 | 2) => {
    // 1 = TASK_QUEUE_TYPE_WORKFLOW, 2 = TASK_QUEUE_TYPE_ACTIVITY; kind 1 = TASK_QUEUE_KIND_NORMAL
    const response = await client.connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue, kind: 1 }, taskQueueType });
    return (response.pollers ?? []).map((p) => ({
      identity: p.identity ?? '',
      lastAccessMs: p.lastAccessTime?.seconds != null ? Number(p.lastAccessTime.seconds) * 1000 + Math.floor((p.lastAccessTime.nanos ?? 0) / 1e6) : null,
    }));
  };
  const [workflow, activity] = await Promise.all([describe(1), describe(2)]);
  return { workflow, activity };
}
