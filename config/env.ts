import * as path from 'node:path';
import * as dotenv from 'dotenv';
import { z } from 'zod';
import { DURATION_PATTERN } from '../contracts';
import { redactSecrets } from '../lib/redact';

/** Where the project lives: every default path is relative to it, wherever the process starts. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The local stack's ports (`npm run stack -- up`); the default URLs and address below follow them. */
export const LOCAL_STACK_PORT_DEFAULTS = { LOCAL_PG_PORT: 55432, LOCAL_TEMPORAL_PORT: 7233, LOCAL_TEMPORAL_UI_PORT: 8233 } as const;

/** What the local stack serves on its ports: the defaults of the URLs and of TEMPORAL_ADDRESS. */
export function localStackDefaults(ports: { LOCAL_PG_PORT: number; LOCAL_TEMPORAL_PORT: number; LOCAL_TEMPORAL_UI_PORT: number }) {
  const pg = `postgres://postgres:postgres@127.0.0.1:${ports.LOCAL_PG_PORT}`;
  return {
    SOURCE_DATABASE_URL: `${pg}/efz_source`,
    STAGING_DATABASE_URL: `${pg}/migration_staging`,
    DESTINATION_DATABASE_URL: `${pg}/corebank`,
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.LOCAL_TEMPORAL_PORT}`,
    TEMPORAL_UI_URL: `http://127.0.0.1:${ports.LOCAL_TEMPORAL_UI_PORT}`,
  };
}

/** What pg (pg-connection-string) understands in `sslmode`; see docs/security.md for what each does. */
export const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'] as const;

// The messages never repeat the value: it may hold a password.
const postgresUrl = z
  .string()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '' && url.pathname.length > 1;
    } catch {
      return false;
    }
  }, 'must be a URL like postgres://USER@HOST:PORT/DATABASE (with the password after USER and a colon)')
  .refine(
    (value) => {
      let mode: string | null;
      try {
        mode = new URL(value).searchParams.get('sslmode');
      } catch {
        return true; // reported by the check above
      }
      return mode === null || (SSL_MODES as readonly string[]).includes(mode);
    },
    `sslmode must be one of ${SSL_MODES.join(', ')}`,
  );

const positiveInt = z.coerce.number().int().positive();
const tcpPort = z.coerce.number().int().min(1).max(65535);
const uuid = z.string().uuid();
/** host:port (a name, an IPv4 address or a bracketed IPv6 address, then the port). */
const hostPort = z.string().regex(/^(?:[^\s:/[\]]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/, 'must be host:port');
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * Every setting of the service, read from the environment (and `.env`), validated once at start-up.
 * The URLs and TEMPORAL_ADDRESS / TEMPORAL_UI_URL left unset are filled in afterwards from the
 * LOCAL_* ports (`localStackDefaults`), so moving the local stack moves what the service talks to.
 */
export const envSchema = z.object({
  LOCAL_PG_PORT: tcpPort.default(LOCAL_STACK_PORT_DEFAULTS.LOCAL_PG_PORT),
  LOCAL_TEMPORAL_PORT: tcpPort.default(LOCAL_STACK_PORT_DEFAULTS.LOCAL_TEMPORAL_PORT),
  LOCAL_TEMPORAL_UI_PORT: tcpPort.default(LOCAL_STACK_PORT_DEFAULTS.LOCAL_TEMPORAL_UI_PORT),

  SOURCE_DATABASE_URL: postgresUrl.optional(),
  STAGING_DATABASE_URL: postgresUrl.optional(),
  DESTINATION_DATABASE_URL: postgresUrl.optional(),
  PG_POOL_MAX: positiveInt.default(4),
  PG_STATEMENT_TIMEOUT_MS: positiveInt.default(300_000),

  TEMPORAL_ADDRESS: hostPort.optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('customer-migration'),
  TEMPORAL_TLS: bool.default('false'),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_TLS_CA_PATH: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_UI_URL: z.string().url().optional(),

  MAPPING_FILE: z
    .string()
    .min(1)
    .default(path.join(PROJECT_ROOT, 'mapping', 'customer-mapping.json')),
  PIPELINE: z
    .string()
    .regex(/^[a-z0-9_-]+$/i, 'letters, digits, - and _ only')
    .default('efz_customer'),

  TENANT_ID: uuid.default('5b3f1c8e-2a4d-4e6f-9a1b-0c7d8e9f0a11'),
  MIGRATION_USER_ID: uuid.default('00000000-0000-4000-8000-00000000da7a'),
  MIGRATION_USER_NAME: z.string().min(1).default('DATA_MIGRATION'),

  BATCH_SIZE: positiveInt.default(5000),
  BATCH_PARALLELISM: positiveInt.default(2),
  EXTRACT_CHUNK_SIZE: positiveInt.default(50_000),
  INCREMENTAL_LOOKBACK_SECONDS: z.coerce.number().int().min(0).default(300),
  REJECT_MAX_COUNT: z.coerce.number().int().min(0).optional(),
  REJECT_MAX_RATIO: z.coerce.number().min(0).max(1).optional(),
  /** Share of batches whose staged rows the reconciliation maps again in full (1 = every batch). */
  RECONCILE_REMAP_FRACTION: z.coerce.number().min(0).max(1).default(0.05),
  /** A full run into empty destination tables loads them without their keys and rebuilds them at the end (auto), or never (off). */
  BULK_LOAD: z.enum(['auto', 'off']).default('auto'),
  FAILED_BATCH_DECISION_TIMEOUT: z.string().regex(DURATION_PATTERN, 'a duration like 30m or 24h').default('24h'),
  /** Where the worker serves the migration's Prometheus metrics (GET /metrics); unset = off. */
  METRICS_ADDRESS: hostPort.optional(),
  /** Where the Temporal SDK's own Prometheus exporter listens (its own HTTP server); unset = off. */
  TEMPORAL_METRICS_ADDRESS: hostPort.optional(),
  /** Source rows `migrate preflight` maps with the real engine to estimate rejects and warnings. */
  PREFLIGHT_SAMPLE_SIZE: positiveInt.default(10_000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  LOG_ROW_VALUES: bool.default('false'),
  /** Key of the sign-off manifest's HMAC-SHA256 (report, verify-report); unset = SHA-256 only. */
  SIGNOFF_HMAC_KEY: z.string().min(16, 'must be at least 16 characters (a shared secret, not a word)').optional(),
});

/** Settings that only make sense together; then the defaults that follow the local stack's ports. */
const checkedSchema = envSchema
  .superRefine((c, ctx) => {
    if (Boolean(c.TEMPORAL_TLS_CERT_PATH) !== Boolean(c.TEMPORAL_TLS_KEY_PATH)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [c.TEMPORAL_TLS_CERT_PATH ? 'TEMPORAL_TLS_KEY_PATH' : 'TEMPORAL_TLS_CERT_PATH'],
        message: 'mTLS needs both TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH',
      });
    }
    if (c.METRICS_ADDRESS && c.METRICS_ADDRESS === c.TEMPORAL_METRICS_ADDRESS) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['TEMPORAL_METRICS_ADDRESS'],
        message: "must differ from METRICS_ADDRESS: the SDK's exporter is an HTTP server of its own",
      });
    }
  })
  .transform((c) => {
    const local = localStackDefaults(c);
    return {
      ...c,
      SOURCE_DATABASE_URL: c.SOURCE_DATABASE_URL ?? local.SOURCE_DATABASE_URL,
      STAGING_DATABASE_URL: c.STAGING_DATABASE_URL ?? local.STAGING_DATABASE_URL,
      DESTINATION_DATABASE_URL: c.DESTINATION_DATABASE_URL ?? local.DESTINATION_DATABASE_URL,
      TEMPORAL_ADDRESS: c.TEMPORAL_ADDRESS ?? local.TEMPORAL_ADDRESS,
      TEMPORAL_UI_URL: c.TEMPORAL_UI_URL ?? local.TEMPORAL_UI_URL,
    };
  });

export type AppConfig = z.output<typeof checkedSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError naming each bad variable (never its secret value). */
export function parseConfig(env: NodeJS.ProcessEnv): AppConfig {
  const blanksRemoved = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const result = checkedSchema.safeParse(blanksRemoved);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${redactSecrets(issue.message)}`);
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

let cached: AppConfig | undefined;

/** Loads `.env` (without overriding real environment variables) and validates it, once per process. */
export function loadConfig(): AppConfig {
  if (!cached) {
    dotenv.config({ path: path.join(PROJECT_ROOT, '.env'), quiet: true } as dotenv.DotenvConfigOptions);
    cached = parseConfig(process.env);
  }
  return cached;
}
