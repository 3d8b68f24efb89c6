import type { CliContext } from '../context';
import { follow, startRun, uiLink } from '../runs';
import { decisionHint, ProgressPrinter, reconciliationLines } from '../render';
import type { MigrationInput } from '../../workflows/definitions';
import type { RunMode } from '../../contracts';

export interface RunOptions {
  wait: boolean;
  id?: string;
  batchSize?: number;
  parallelism?: number;
  rejectMaxCount?: number;
  rejectMaxRatio?: number;
  reconcileRemapFraction?: number;
}

/** `full` / `incremental`: start a run; with --wait follow it to the end. Exit 0 only for a clean run. */
export async function runCommand(ctx: CliContext, mode: RunMode, options: RunOptions): Promise<number> {
  const input: MigrationInput = {
    mode,
    trigger: 'cli',
    batchSize: options.batchSize,
    parallelism: options.parallelism,
    rejectMaxCount: options.rejectMaxCount,
    rejectMaxRatio: options.rejectMaxRatio,
    reconcileRemapFraction: options.reconcileRemapFraction,
  };
  const handle = await startRun(ctx, input, options.id);
  const link = uiLink(ctx, handle.workflowId);
  if (!options.wait) {
    if (ctx.json) console.log(JSON.stringify({ runId: handle.workflowId, status: 'RUNNING', mode, ui: link }));
    else console.log(`Started ${mode} run ${handle.workflowId}\n  follow it:  npm run migrate -- status ${handle.workflowId} --watch\n  Temporal UI: ${link}`);
    return 0;
  }
  if (!ctx.json) process.stderr.write(`Started ${mode} run ${handle.workflowId}\nTemporal UI: ${link}\n`);
  const printer = new ProgressPrinter({ onPhase: (p) => decisionHint(p, handle.workflowId) });
  const outcome = await follow(handle, (p) => !ctx.json && printer.update(p));
  printer.done();
  if (!outcome.ok) {
    const p = outcome.progress;
    if (ctx.json) {
      console.log(
        JSON.stringify({
          runId: handle.workflowId,
          status: p?.status === 'RUNNING' || !p ? 'FAILED' : p.status,
          error: outcome.error,
          counts: p?.counts ?? null,
          reconciliation: p?.reconciliation ?? null,
          ui: link,
        }),
      );
    } else {
      console.error(`Run ${handle.workflowId} did not complete: ${outcome.error}`);
    }
    return 1;
  }
  const r = outcome.result;
  const clean = r.status === 'COMPLETED' && Boolean(r.reconciliation?.ok);
  if (ctx.json) {
    console.log(
      JSON.stringify({
        runId: handle.workflowId,
        runNumber: r.runId,
        status: r.status,
        mode: r.mode,
        counts: r.counts,
        batches: r.batches,
        failedBatches: r.failedBatches,
        watermarkBefore: r.watermarkBefore,
        watermarkAfter: r.watermarkAfter,
        reconciliation: r.reconciliation,
        note: r.note,
        ui: link,
      }),
    );
    return clean || r.status === 'SKIPPED' ? 0 : 1;
  }
  const c = r.counts;
  console.log(`Run ${handle.workflowId} (run #${r.runId}, ${r.mode}): ${r.status}`);
  if (r.note) console.log(`  note: ${r.note}`);
  console.log(
    `  extracted ${c.extracted}, staged ${c.staged}, loaded ${c.loaded}, rejected ${c.rejected}, warned ${c.warned}; batches ${r.batches.done}/${r.batches.total}`,
  );
  if (r.mode === 'incremental' || r.watermarkAfter) console.log(`  watermark: ${r.watermarkBefore ?? '(none)'} → ${r.watermarkAfter ?? '(unchanged)'}`);
  if (r.reconciliation) console.log(reconciliationLines(r.reconciliation).join('\n'));
  console.log(`  rejects and warnings: npm run migrate -- report ${handle.workflowId}`);
  console.log(`  Temporal UI: ${link}`);
  return clean || r.status === 'SKIPPED' ? 0 : 1;
}
