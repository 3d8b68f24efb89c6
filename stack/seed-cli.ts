/**
 * npm run seed -- --rows N [--seed S] [--start-code C] [--no-truncate]
 * npm run seed -- --mutate FRACTION [--seed S]
 *
 * Writes synthetic legacy rows into the source efz_customer (and branch_map into staging), or
 * changes a share of the existing rows. URLs come from the configuration (SOURCE_DATABASE_URL,
 * STAGING_DATABASE_URL, `.env`).
 */
import { ConfigError, loadConfig } from '../config/env';
import { redactSecrets } from '../lib/redact';
import { DEFAULT_SEED, mutateSource, seedSource } from './seed';

export const USAGE = `usage: npm run seed -- --rows N [--seed S] [--start-code C] [--no-truncate]
       npm run seed -- --mutate FRACTION [--seed S]

  --rows N          number of synthetic efz_customer rows to write (integer >= 0)
  --seed S          PRNG seed, integer 0..4294967295 (default ${DEFAULT_SEED}); same seed, same rows
  --start-code C    first customer_code (default 1); codes are C, C+1, …, C+N-1
  --no-truncate     keep the existing rows (the new codes must be free); default: empty the table first
  --mutate F        instead of seeding: update a deterministic share F (0 < F <= 1) of the existing rows,
                    with new values and a fresh updated_at (for incremental runs)
  -h, --help        this text

Databases: SOURCE_DATABASE_URL and STAGING_DATABASE_URL (environment or .env).`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export type SeedCommand =
  { kind: 'help' } | { kind: 'seed'; rows: number; seed: number; startCode: number; truncate: boolean } | { kind: 'mutate'; fraction: number; seed: number };

function parseInteger(flag: string, text: string | undefined, min: number, max: number): number {
  if (text === undefined || text.startsWith('--')) throw new UsageError(`${flag} needs a value`);
  const cleaned = text.replace(/_/g, '');
  if (!/^\d+$/.test(cleaned)) throw new UsageError(`${flag} must be an integer, got '${text}'`);
  const value = Number(cleaned);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be between ${min} and ${max}, got ${text}`);
  }
  return value;
}

/** Parses the command line (without node and the script); throws a UsageError on anything wrong. */
export function parseSeedArgs(argv: readonly string[]): SeedCommand {
  let rows: number | undefined;
  let seed = DEFAULT_SEED;
  let startCode = 1;
  let truncate = true;
  let fraction: number | undefined;
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    if (seen.has(flag)) throw new UsageError(`${flag} given twice`);
    seen.add(flag);
    switch (flag) {
      case '-h':
      case '--help':
        return { kind: 'help' };
      case '--rows':
        rows = parseInteger('--rows', value(), 0, 2_147_483_647);
        break;
      case '--seed':
        seed = parseInteger('--seed', value(), 0, 0xffffffff);
        break;
      case '--start-code':
        startCode = parseInteger('--start-code', value(), 1, 2_147_483_647);
        break;
      case '--no-truncate':
        if (inline !== undefined) throw new UsageError('--no-truncate takes no value');
        truncate = false;
        break;
      case '--mutate': {
        const text = value();
        if (text === undefined || !/^(\d+\.?\d*|\.\d+)$/.test(text) || !(Number(text) > 0 && Number(text) <= 1)) {
          throw new UsageError(`--mutate must be a fraction in (0, 1], got '${text ?? ''}'`);
        }
        fraction = Number(text);
        break;
      }
      default:
        throw new UsageError(arg.startsWith('-') ? `unknown option ${flag}` : `unexpected argument '${arg}'`);
    }
  }
  if (fraction !== undefined) {
    if (rows !== undefined || seen.has('--start-code') || seen.has('--no-truncate')) {
      throw new UsageError('--mutate cannot be combined with --rows, --start-code or --no-truncate');
    }
    return { kind: 'mutate', fraction, seed };
  }
  if (rows === undefined) throw new UsageError('--rows is required');
  if (rows > 0 && startCode + rows - 1 > 2_147_483_647) throw new UsageError('--start-code + --rows - 1 exceeds the largest customer_code (2147483647)');
  return { kind: 'seed', rows, seed, startCode, truncate };
}

async function main(): Promise<number> {
  let command: SeedCommand;
  try {
    command = parseSeedArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`seed: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (command.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig();
  if (command.kind === 'mutate') {
    const started = process.hrtime.bigint();
    const { updated } = await mutateSource({ sourceUrl: config.SOURCE_DATABASE_URL, fraction: command.fraction, seed: command.seed });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.stdout.write(`mutated ${updated} rows of efz_customer (fraction ${command.fraction}, seed ${command.seed}) in ${seconds.toFixed(2)} s\n`);
    return 0;
  }
  const result = await seedSource({
    sourceUrl: config.SOURCE_DATABASE_URL,
    stagingUrl: config.STAGING_DATABASE_URL,
    rows: command.rows,
    seed: command.seed,
    startCode: command.startCode,
    truncate: command.truncate,
  });
  const rate = result.seconds > 0 ? Math.round(result.rows / result.seconds) : 0;
  const last = command.startCode + command.rows - 1;
  process.stdout.write(
    `seeded ${result.rows} rows into efz_customer (codes ${command.startCode}–${last}, seed ${command.seed}` +
      `${command.truncate ? ', table truncated first' : ''}) and ${result.branches} branches into branch_map\n` +
      `rows: ${result.rows}  seconds: ${result.seconds.toFixed(2)}  rows/s: ${rate}\n`,
  );
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const message = err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err);
      process.stderr.write(`seed failed: ${redactSecrets(message)}\n`);
      process.exitCode = 1;
    },
  );
}
