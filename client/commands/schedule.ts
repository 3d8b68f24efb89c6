import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions as TemporalScheduleOptions,
} from '@temporalio/client';
import { UsageError } from '../../lib/cli-errors';
import type { CliContext } from '../context';
import { table } from '../render';
import { MigrationInput, WORKFLOW_TYPE } from '../../workflows/definitions';
import { formatDurationMs, isScheduleDuration } from '../../contracts';

export interface ScheduleOptions {
  id?: string;
  every?: string;
  cron?: string;
  catchupWindow: string;
  paused: boolean;
  note?: string;
}

function defaultId(ctx: CliContext): string {
  return `customer-migration-incremental-${ctx.config.PIPELINE}`;
}

function summarise(d: ScheduleDescription) {
  const spec = d.spec;
  // Temporal turns a cron expression into calendar specs; the expression given is kept in the memo.
  const memoCron = typeof d.memo?.cron === 'string' ? [d.memo.cron] : [];
  return {
    scheduleId: d.scheduleId,
    paused: d.state.paused,
    note: d.state.note ?? null,
    every: spec.intervals?.map((i) => formatDurationMs(i.every)) ?? [],
    everyMs: spec.intervals?.map((i) => i.every) ?? [],
    cron: memoCron,
    calendars: spec.calendars?.length ?? 0,
    overlap: d.policies.overlap,
    catchupWindow: formatDurationMs(d.policies.catchupWindow),
    catchupWindowMs: d.policies.catchupWindow,
    actionsTaken: d.info.numActionsTaken,
    skippedOverlap: d.info.numActionsSkippedOverlap,
    missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
    running: d.info.runningActions.map((a) => a.workflow.workflowId),
    recent: d.info.recentActions.map((a) => ({ scheduledAt: a.scheduledAt, takenAt: a.takenAt, workflowId: a.action.workflow.workflowId })),
    next: d.info.nextActionTimes.slice(0, 3),
  };
}

function printSummary(s: ReturnType<typeof summarise>): void {
  console.log(`Schedule ${s.scheduleId}: ${s.paused ? 'PAUSED' : 'active'}${s.note ? ` (${s.note})` : ''}`);
  const when = [...s.every.map((e) => `every ${e}`), ...s.cron.map((c) => `on cron "${c}"`)].join(', ') || `${s.calendars} calendar spec(s)`;
  console.log(`  runs: incremental, ${when}; overlap ${s.overlap}; catch-up window ${s.catchupWindow}`);
  console.log(`  actions taken ${s.actionsTaken}, skipped for overlap ${s.skippedOverlap}, missed the catch-up window ${s.missedCatchupWindow}`);
  if (s.running.length) console.log(`  running now: ${s.running.join(', ')}`);
  for (const r of s.recent.slice(-5)) console.log(`  recent: ${r.takenAt.toISOString()} → ${r.workflowId}`);
  if (!s.paused) for (const n of s.next) console.log(`  next: ${n.toISOString()}`);
}

/** What every subcommand works on: the CLI, its Temporal client and the schedule's id. */
interface ScheduleTarget {
  ctx: CliContext;
  client: Client;
  id: string;
}

/** One JSON object with --json, the human text otherwise. */
function output(ctx: CliContext, value: object, text: () => void): void {
  if (ctx.json) console.log(JSON.stringify(value));
  else text();
}

/** The schedule's description; an unknown id is a usage error that says how to list them. */
async function describeSchedule({ client, id }: ScheduleTarget): Promise<ScheduleDescription> {
  try {
    return await client.schedule.getHandle(id).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new UsageError(`no schedule '${id}' (list them with: npm run migrate -- schedule list)`);
    throw err;
  }
}

function checkCreateOptions(options: ScheduleOptions): void {
  if (!options.every === !options.cron) throw new UsageError('schedule create needs exactly one of --every DURATION (e.g. 15m) or --cron "EXPR"');
  if (options.every && !isScheduleDuration(options.every)) throw new UsageError(`--every takes a duration like 30s, 15m, 1h or 1d, not '${options.every}'`);
  if (!isScheduleDuration(options.catchupWindow)) throw new UsageError(`--catchup-window takes a duration like 10m, not '${options.catchupWindow}'`);
}

/** The schedule Temporal is asked to create: incremental runs, overlaps skipped. */
function incrementalSchedule(ctx: CliContext, id: string, options: ScheduleOptions): TemporalScheduleOptions {
  const input: MigrationInput = { mode: 'incremental', trigger: 'schedule' };
  return {
    scheduleId: id,
    spec: options.every ? { intervals: [{ every: options.every as `${number}m` }] } : { cronExpressions: [options.cron!] },
    action: {
      type: 'startWorkflow',
      workflowType: WORKFLOW_TYPE,
      workflowId: `${id}-run`,
      taskQueue: ctx.config.TEMPORAL_TASK_QUEUE,
      args: [input],
      staticSummary: `scheduled incremental migration of ${ctx.config.PIPELINE}`,
    },
    // A run still going when the next one is due: skip it (the pipeline lock also refuses overlaps
    // with runs started by hand). After an outage, catch up only within the window.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: options.catchupWindow as `${number}m` },
    state: { paused: options.paused, note: options.note ?? 'created by migrate schedule create' },
    memo: { pipeline: ctx.config.PIPELINE, ...(options.cron ? { cron: options.cron } : { every: options.every }) },
  };
}

/** An id already taken: nothing is changed, the existing schedule is shown (exit 1). */
async function reportExisting(target: ScheduleTarget): Promise<number> {
  const { ctx, id } = target;
  const existing = summarise(await describeSchedule(target));
  if (ctx.json) console.log(JSON.stringify({ created: false, reason: 'exists', schedule: existing }));
  else {
    console.log(`A schedule with id '${id}' already exists; nothing was changed:`);
    printSummary(existing);
    console.log(`  to replace it: npm run migrate -- schedule delete ${id}, then create it again (or pick another --id)`);
  }
  return 1;
}

async function createSchedule(target: ScheduleTarget, options: ScheduleOptions): Promise<number> {
  const { ctx, client, id } = target;
  checkCreateOptions(options);
  try {
    await client.schedule.create(incrementalSchedule(ctx, id, options));
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    return await reportExisting(target);
  }
  const created = summarise(await describeSchedule(target));
  output(ctx, { created: true, schedule: created }, () => {
    console.log(`Created schedule ${id}: incremental runs ${options.every ? `every ${options.every}` : `on cron "${options.cron}"`}, overlap SKIP.`);
    printSummary(created);
  });
  return 0;
}

/** Every schedule that starts this service's workflow. */
async function listSchedules({ ctx, client }: ScheduleTarget): Promise<number> {
  const rows: ReturnType<typeof summarise>[] = [];
  for await (const s of client.schedule.list()) {
    if (s.action?.type !== 'startWorkflow' || s.action.workflowType !== WORKFLOW_TYPE) continue;
    rows.push(summarise(await client.schedule.getHandle(s.scheduleId).describe()));
  }
  output(ctx, { schedules: rows }, () =>
    console.log(
      rows.length
        ? table(
            rows.map((r) => [r.scheduleId, r.paused ? 'paused' : 'active', [...r.every, ...r.cron].join(' '), r.actionsTaken, r.next[0]?.toISOString() ?? '']),
            ['schedule', 'state', 'every/cron', 'runs', 'next'],
          )
        : 'No migration schedules.',
    ),
  );
  return 0;
}

async function showSchedule(target: ScheduleTarget): Promise<number> {
  const s = summarise(await describeSchedule(target));
  output(target.ctx, s, () => printSummary(s));
  return 0;
}

async function setPaused(target: ScheduleTarget, pause: boolean, note: string | undefined): Promise<number> {
  const { ctx, client, id } = target;
  await describeSchedule(target);
  const handle = client.schedule.getHandle(id);
  if (pause) await handle.pause(note ?? 'paused by migrate schedule pause');
  else await handle.unpause(note ?? 'unpaused by migrate schedule unpause');
  output(ctx, { scheduleId: id, paused: pause }, () => console.log(`Schedule ${id} ${pause ? 'paused' : 'unpaused'}.`));
  return 0;
}

async function triggerSchedule(target: ScheduleTarget): Promise<number> {
  const { ctx, client, id } = target;
  await describeSchedule(target);
  // SKIP: a trigger while a scheduled run is still going does not start a second one.
  await client.schedule.getHandle(id).trigger(ScheduleOverlapPolicy.SKIP);
  output(ctx, { scheduleId: id, triggered: true }, () => console.log(`Schedule ${id} triggered (skipped if one of its runs is still going).`));
  return 0;
}

async function deleteSchedule(target: ScheduleTarget): Promise<number> {
  const { ctx, client, id } = target;
  await describeSchedule(target);
  await client.schedule.getHandle(id).delete();
  output(ctx, { scheduleId: id, deleted: true }, () => console.log(`Schedule ${id} deleted; runs it started are not affected.`));
  return 0;
}

/** `schedule create|list|describe|pause|unpause|trigger|delete`: unattended incremental runs. */
export async function scheduleCommand(ctx: CliContext, sub: string | undefined, args: string[], options: ScheduleOptions): Promise<number> {
  // Connect first: an unreachable Temporal is reported before a wrong subcommand.
  const target: ScheduleTarget = { ctx, client: await ctx.client(), id: args[0] ?? options.id ?? defaultId(ctx) };
  switch (sub) {
    case 'create':
      return await createSchedule(target, options);
    case 'list':
      return await listSchedules(target);
    case 'describe':
      return await showSchedule(target);
    case 'pause':
    case 'unpause':
      return await setPaused(target, sub === 'pause', options.note);
    case 'trigger':
      return await triggerSchedule(target);
    case 'delete':
      return await deleteSchedule(target);
    default:
      throw new UsageError(`schedule needs a subcommand: create, list, describe, pause, unpause, trigger, delete${sub ? ` (not '${sub}')` : ''}`);
  }
}
