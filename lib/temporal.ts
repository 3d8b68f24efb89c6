import * as fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import type { AppConfig } from '../config/env';
import { searchAttributeKeys } from '../workflows/definitions';

/** TLS / mTLS for a real cluster from configured certificate paths; plain for the local dev server. */
export function temporalTls(config: AppConfig): TLSConfig | undefined {
  if (!config.TEMPORAL_TLS && !config.TEMPORAL_TLS_CERT_PATH) return undefined;
  const read = (p?: string) => (p ? fs.readFileSync(p) : undefined);
  const cert = read(config.TEMPORAL_TLS_CERT_PATH);
  const key = read(config.TEMPORAL_TLS_KEY_PATH);
  return {
    serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME,
    serverRootCACertificate: read(config.TEMPORAL_TLS_CA_PATH),
    clientCertPair: cert && key ? { crt: cert, key } : undefined,
  };
}

export function connectionOptions(config: AppConfig) {
  return { address: config.TEMPORAL_ADDRESS, tls: temporalTls(config), apiKey: config.TEMPORAL_API_KEY };
}

export async function connectClient(config: AppConfig): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ ...connectionOptions(config), connectTimeout: '10s' });
  return { client: new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }), connection };
}

/** Whether the namespace has the custom search attributes the workflow would set. */
export async function hasSearchAttributes(client: Client, namespace: string): Promise<boolean> {
  try {
    const response = await client.connection.operatorService.listSearchAttributes({ namespace });
    const names = Object.keys(response.customAttributes ?? {});
    return Object.values(searchAttributeKeys).every((k) => names.includes(k.name));
  } catch {
    return false;
  }
}
