import { parseArgs } from 'node:util';
import { describeError, UsageError } from '../lib/cli-errors';
import { CliContext } from './context';
import { runCommand, type RunOptions } from './commands/run';
import { statusCommand } from './commands/status';
import { reportCommand } from './commands/report';
import { abortCommand, acceptFailuresCommand, retryCommand } from './commands/decisions';
import { rejectsCommand } from './commands/rejects';
import { repairConstraintsCommand } from './commands/repair';
import { scheduleCommand, type ScheduleOptions } from './commands/schedule';
import { parseCodes, previewCommand } from './commands/preview';
import { verifyReportCommand } from './commands/verify-report';
import { compareCommand } from './commands/compare';
import { explainCommand } from './commands/explain';
import { preflightCommand } from './commands/preflight';

const USAGE = `usage: npm run migrate -- <command> [options]

Runs
  full [--wait] [--id ID] [--batch-size N] [--parallelism N]   start a full migration
  incremental [--wait] [--id ID] ...                           start an incremental run (rows changed since the watermark)
    run options: --reject-max-count N, --reject-max-ratio R (0..1), --remap-fraction F (0..1: share of
    batches the reconciliation maps again in full; 1 = all)
  status <runId> [--watch]                                     where a run stands (live bar with --watch)
  report <runId> [--html FILE]                                 reconciliation, rejects/warnings by reason, batch statistics, manifest;
                                                               --html: the sign-off pack, one self-contained page (charts, fingerprint, manifest)
  verify-report FILE                                           does a sign-off pack still match staging and the destination? (exit 1: no)
  compare <runA> <runB> [--html FILE]                          two rehearsals side by side: phases, rates, reasons, fingerprints, changed
                                                               key ranges, and the projected cutover duration
  explain <customer_code>                                      one customer end to end: source, staging, ids, runs, destination, field by field
  rejects <runId> --csv FILE [--warnings]                      export every reject (and warning) with its source row
  preview [--limit N] [--codes a,b,...] [--source]             the mapping applied to sample staged (or source) rows; writes nothing

Before the window
  preflight [--sample N]                                       what would block a run (BLOCKER / WARNING / INFO); writes nothing;
                                                               exit 0 when nothing blocks, 1 when something does

Cutover decisions on a run whose batches failed
  retry <runId> [--batch N ...]                                re-run failed batches (all when none named)
  accept-failures <runId>                                      finish as COMPLETED_WITH_FAILURES
  abort <runId> [--reason TEXT]                                end the run, watermark unchanged
  repair-constraints <runId>                                   rebuild the destination keys a run's bulk load dropped (idempotent)

Schedules of unattended incremental runs (overlap policy SKIP)
  schedule create [--id ID] (--every 15m | --cron "EXPR") [--catchup-window 10m] [--paused]
  schedule list | describe [ID] | pause [ID] | unpause [ID] | trigger [ID] | delete [ID]

Every command takes --json: exactly one JSON object on stdout.
A runId is the workflow id printed at start (the staging run number works too).`;

const integer = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--${name} takes a positive whole number, not '${value}'`);
  return Number(value);
};
const ratio = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`--${name} takes a number from 0 to 1, not '${value}'`);
  return n;
};

const OPTIONS = {
  json: { type: 'boolean', default: false },
  wait: { type: 'boolean', default: false },
  watch: { type: 'boolean', default: false },
  warnings: { type: 'boolean', default: false },
  id: { type: 'string' },
  'batch-size': { type: 'string' },
  parallelism: { type: 'string' },
  'reject-max-count': { type: 'string' },
  'reject-max-ratio': { type: 'string' },
  'remap-fraction': { type: 'string' },
  batch: { type: 'string', multiple: true },
  csv: { type: 'string' },
  html: { type: 'string' },
  reason: { type: 'string' },
  every: { type: 'string' },
  cron: { type: 'string' },
  'catchup-window': { type: 'string', default: '10m' },
  paused: { type: 'boolean', default: false },
  note: { type: 'string' },
  limit: { type: 'string' },
  codes: { type: 'string' },
  source: { type: 'boolean', default: false },
  sample: { type: 'string' },
} as const;

const KNOWN_COMMANDS = [
  'full',
  'incremental',
  'status',
  'report',
  'verify-report',
  'compare',
  'explain',
  'rejects',
  'retry',
  'accept-failures',
  'abort',
  'repair-constraints',
  'schedule',
  'preview',
  'preflight',
];

/** A command's options and arguments; a parse error is a usage error. */
function parseCommandLine(args: string[]) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]} (see: npm run migrate -- help)`);
  }
}

type CommandLine = ReturnType<typeof parseCommandLine>;
type Values = CommandLine['values'];

/** The command's one argument (a run id, a file, a customer code); anything else is a usage error. */
function onlyArgument(command: string, positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`${command} takes exactly one ${what} (see: npm run migrate -- help)`);
  return positionals[0];
}

function noArguments(command: string, positionals: string[]): void {
  if (positionals.length) throw new UsageError(`${command} takes no argument '${positionals[0]}' (see: npm run migrate -- help)`);
}

function runOptions(values: Values): RunOptions {
  return {
    wait: values.wait ?? false,
    id: values.id,
    batchSize: integer('batch-size', values['batch-size']),
    parallelism: integer('parallelism', values.parallelism),
    rejectMaxCount: integer('reject-max-count', values['reject-max-count']),
    rejectMaxRatio: ratio('reject-max-ratio', values['reject-max-ratio']),
    reconcileRemapFraction: ratio('remap-fraction', values['remap-fraction']),
  };
}

function scheduleOptions(values: Values): ScheduleOptions {
  return {
    id: values.id,
    every: values.every,
    cron: values.cron,
    catchupWindow: values['catchup-window'] ?? '10m',
    paused: values.paused ?? false,
    note: values.note,
  };
}

function customerCode(positionals: string[]): number {
  const code = onlyArgument('explain', positionals, '<customer_code>');
  if (!/^\d+$/.test(code) || Number(code) > 2_147_483_647) throw new UsageError(`explain takes a customer code (a whole number), not '${code}'`);
  return Number(code);
}

/** Runs one known command with its parsed options; resolves to the process's exit code. */
async function dispatch(ctx: CliContext, command: string, { values, positionals }: CommandLine): Promise<number> {
  const runRef = () => onlyArgument(command, positionals, '<runId>');
  switch (command) {
    case 'full':
    case 'incremental':
      noArguments(command, positionals);
      return await runCommand(ctx, command, runOptions(values));
    case 'status':
      return await statusCommand(ctx, runRef(), { watch: values.watch ?? false });
    case 'report':
      return await reportCommand(ctx, runRef(), { html: values.html });
    case 'verify-report':
      return await verifyReportCommand(ctx, onlyArgument(command, positionals, 'FILE'));
    case 'compare':
      if (positionals.length !== 2) throw new UsageError('compare takes two runs: compare <runA> <runB> (see: npm run migrate -- help)');
      return await compareCommand(ctx, positionals[0], positionals[1], { html: values.html });
    case 'explain':
      return await explainCommand(ctx, customerCode(positionals));
    case 'rejects':
      if (!values.csv) throw new UsageError('rejects needs --csv FILE');
      return await rejectsCommand(ctx, runRef(), { csv: values.csv, warnings: values.warnings ?? false });
    case 'retry':
      return await retryCommand(
        ctx,
        runRef(),
        (values.batch ?? []).map((b) => integer('batch', b)!),
      );
    case 'accept-failures':
      return await acceptFailuresCommand(ctx, runRef());
    case 'abort':
      return await abortCommand(ctx, runRef(), values.reason);
    case 'repair-constraints':
      return await repairConstraintsCommand(ctx, runRef());
    case 'preview':
      noArguments(command, positionals);
      return await previewCommand(ctx, { limit: integer('limit', values.limit) ?? 10, codes: parseCodes(values.codes), source: values.source ?? false });
    case 'preflight':
      noArguments(command, positionals);
      return await preflightCommand(ctx, { sampleSize: integer('sample', values.sample) });
    case 'schedule':
      if (positionals.length > 2) throw new UsageError(`schedule ${positionals[0]} takes at most one schedule id`);
      return await scheduleCommand(ctx, positionals[0], positionals.slice(1), scheduleOptions(values));
  }
  return 2;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const commandLine = parseCommandLine(rest);
  if (!KNOWN_COMMANDS.includes(command))
    throw new UsageError(`unknown command '${command}' (commands: ${KNOWN_COMMANDS.join(', ')}; see: npm run migrate -- help)`);
  const ctx = new CliContext(commandLine.values.json ?? false);
  try {
    return await dispatch(ctx, command, commandLine);
  } finally {
    await ctx.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    const json = process.argv.includes('--json');
    const message = describeError(err);
    if (json) console.log(JSON.stringify({ error: message.replace(/^(usage|error): /, ''), kind: (err as Error)?.name ?? 'Error' }));
    process.stderr.write(message + '\n');
    process.exit((err as Error)?.name === 'UsageError' ? 2 : 1);
  },
);
