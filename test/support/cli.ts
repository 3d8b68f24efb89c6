import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { AppConfig } from '../../config/env';

/** The compiled CLI (dist/client/main.js), as an operator runs it. */
export const CLI_MAIN = path.resolve(__dirname, '..', '..', 'client', 'main.js');

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

/** Runs `node dist/client/main.js ...args` to its end (killed after timeoutMs). */
export function runCli(config: AppConfig, args: string[], timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: cliEnv(config), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      let json: any = null;
      try {
        json = JSON.parse(stdout.trim());
      } catch {
        json = null;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

/** Polls `check` until it returns a value other than undefined/false, or fails after timeoutMs. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 120_000, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
