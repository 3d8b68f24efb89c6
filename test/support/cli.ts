import type { AppConfig } from '../../config/env';
import { CLIENT_MAIN, runNode, until } from './processes';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when it is one JSON object (commands run with --json), else null. */
  json: any;
}

/** Environment for the CLI: the test databases, the test Temporal server and the test worker's queue. */
export function cliEnv(config: AppConfig): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SOURCE_DATABASE_URL: config.SOURCE_DATABASE_URL,
    STAGING_DATABASE_URL: config.STAGING_DATABASE_URL,
    DESTINATION_DATABASE_URL: config.DESTINATION_DATABASE_URL,
    TEMPORAL_ADDRESS: config.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: config.TEMPORAL_NAMESPACE,
    TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
    PIPELINE: config.PIPELINE,
    LOG_LEVEL: 'warn',
  };
}

/** Runs `node dist/client/main.js ...args` to its end (killed after timeoutMs), parsing a --json answer. */
export async function runCli(config: AppConfig, args: string[], timeoutMs = 120_000, extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const { code, stdout, stderr } = await runNode(CLIENT_MAIN, args, { ...cliEnv(config), ...extraEnv }, timeoutMs);
  let json: any;
  try {
    json = JSON.parse(stdout.trim());
  } catch {
    json = null;
  }
  return { code, stdout, stderr, json };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after timeoutMs. */
export function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 120_000, everyMs = 500): Promise<T> {
  return until<T>(what, check, timeoutMs, everyMs);
}
