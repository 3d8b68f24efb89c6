import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, ScheduleDescription } from '@temporalio/client';
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

/** `schedule create|list|describe|pause|unpause|trigger|delete`: unattended incremental runs. */
export async function scheduleCommand(ctx: CliContext, sub: string | undefined, args: string[], options: ScheduleOptions): Promise<number> {
  const client = await ctx.client();
  const id = args[0] ?? options.id ?? defaultId(ctx);
  const out = (value: object, text: () => void) => (ctx.json ? console.log(JSON.stringify(value)) : text());
  const handle = () => client.schedule.getHandle(id);
  const describe = async () => {
    try {
      return await handle().describe();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) throw new UsageError(`no schedule '${id}' (list them with: npm run migrate -- schedule list)`);
      throw err;
    }
  };

  switch (sub) {
    case 'create': {
      if (!options.every === !options.cron) throw new UsageError('schedule create needs exactly one of --every DURATION (e.g. 15m) or --cron "EXPR"');
      if (options.every && !isScheduleDuration(options.every)) throw new UsageError(`--every takes a duration like 30s, 15m, 1h or 1d, not '${options.every}'`);
      if (!isScheduleDuration(options.catchupWindow)) throw new UsageError(`--catchup-window takes a duration like 10m, not '${options.catchupWindow}'`);
      const input: MigrationInput = { mode: 'incremental', trigger: 'schedule' };
      try {
        await client.schedule.create({
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
        });
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        const existing = summarise(await describe());
        if (ctx.json) console.log(JSON.stringify({ created: false, reason: 'exists', schedule: existing }));
        else {
          console.log(`A schedule with id '${id}' already exists; nothing was changed:`);
          printSummary(existing);
          console.log(`  to replace it: npm run migrate -- schedule delete ${id}, then create it again (or pick another --id)`);
        }
        return 1;
      }
      const created = summarise(await describe());
      out({ created: true, schedule: created }, () => {
        console.log(`Created schedule ${id}: incremental runs ${options.every ? `every ${options.every}` : `on cron "${options.cron}"`}, overlap SKIP.`);
        printSummary(created);
      });
      return 0;
    }
    case 'list': {
      const rows: ReturnType<typeof summarise>[] = [];
      for await (const s of client.schedule.list()) {
        if (s.action?.type !== 'startWorkflow' || s.action.workflowType !== WORKFLOW_TYPE) continue;
        rows.push(summarise(await client.schedule.getHandle(s.scheduleId).describe()));
      }
      out({ schedules: rows }, () =>
        console.log(
          rows.length
            ? table(
                rows.map((r) => [
                  r.scheduleId,
                  r.paused ? 'paused' : 'active',
                  [...r.every, ...r.cron].join(' '),
                  r.actionsTaken,
                  r.next[0]?.toISOString() ?? '',
                ]),
                ['schedule', 'state', 'every/cron', 'runs', 'next'],
              )
            : 'No migration schedules.',
        ),
      );
      return 0;
    }
    case 'describe': {
      const s = summarise(await describe());
      out(s, () => printSummary(s));
      return 0;
    }
    case 'pause':
    case 'unpause': {
      await describe();
      if (sub === 'pause') await handle().pause(options.note ?? 'paused by migrate schedule pause');
      else await handle().unpause(options.note ?? 'unpaused by migrate schedule unpause');
      out({ scheduleId: id, paused: sub === 'pause' }, () => console.log(`Schedule ${id} ${sub === 'pause' ? 'paused' : 'unpaused'}.`));
      return 0;
    }
    case 'trigger': {
      await describe();
      // SKIP: a trigger while a scheduled run is still going does not start a second one.
      await handle().trigger(ScheduleOverlapPolicy.SKIP);
      out({ scheduleId: id, triggered: true }, () => console.log(`Schedule ${id} triggered (skipped if one of its runs is still going).`));
      return 0;
    }
    case 'delete': {
      await describe();
      await handle().delete();
      out({ scheduleId: id, deleted: true }, () => console.log(`Schedule ${id} deleted; runs it started are not affected.`));
      return 0;
    }
    default:
      throw new UsageError(`schedule needs a subcommand: create, list, describe, pause, unpause, trigger, delete${sub ? ` (not '${sub}')` : ''}`);
  }
}
