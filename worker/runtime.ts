import { DefaultLogger, LogEntry, Runtime } from '@temporalio/worker';
import { log } from '../lib/log';

const LEVELS = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' } as const;

/**
 * Routes the SDK's own log lines (bundler, worker state, retries) into the service's JSON lines, at
 * the configured level, so one worker log stays machine-readable.
 */
export function installRuntime(level: keyof typeof LEVELS): void {
  const logger = new DefaultLogger(level === 'debug' ? 'DEBUG' : 'WARN', (entry: LogEntry) => {
    const kind = entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error';
    log(kind === ('trace' as string) ? 'debug' : kind, entry.message, { sdk: true, ...(entry.meta ?? {}) });
  });
  Runtime.install({ logger });
}
