import * as fs from 'node:fs';
import { once } from 'node:events';
import type { CliContext } from '../context';
import { resolveWorkflowId } from '../runs';
import { openArtifact } from '../pack/files';
import { latestRunIdOfWorkflow } from '../../db/staging/runs';
import { issuesPageOfRun } from '../../db/staging/issues';

/**
 * A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a formula
 * (CSV injection): OWASP's advice is a leading single quote, which shows the value as text.
 */
export function neutraliseFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** One CSV field: neutralised (neutraliseFormula), then quoted where CSV needs it. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = neutraliseFormula(typeof value === 'string' ? value : JSON.stringify(value));
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Writes every reject of a run (reason, field, value, original source row) to a CSV for the business. */
export async function rejectsCommand(ctx: CliContext, runRef: string, { csv, warnings }: { csv: string; warnings: boolean }): Promise<number> {
  const workflowId = await resolveWorkflowId(ctx, runRef);
  const db = ctx.staging();
  const runNumber = await latestRunIdOfWorkflow(db, workflowId);
  if (runNumber === null) throw Object.assign(new Error(`no run ${workflowId} in the staging database`), { name: 'UsageError' });
  const severities = warnings ? ['REJECT', 'WARNING'] : ['REJECT'];
  // Open the file first: a wrong path is the operator's to fix, in one line, before any query runs.
  // Mode 0600: the file holds customers' source rows.
  const fd = openArtifact(csv);
  const out = fs.createWriteStream('', { fd });
  let writeError: Error | undefined;
  out.on('error', (err) => (writeError ??= err));
  out.write('customer_code,severity,reason,field,value,batch_no,source_row\n');
  let written = 0;
  let after = -2_147_483_649;
  for (;;) {
    // Keyset pages over whole codes (a code may have several warnings) keep memory flat.
    const page = await issuesPageOfRun(db, runNumber, severities, after);
    if (!page.length) break;
    for (const r of page) {
      if (!out.write([r.customer_code, r.severity, r.reason, r.field, r.value, r.batch_no, r.source_row].map(csvField).join(',') + '\n'))
        await once(out, 'drain');
      written++;
    }
    after = page[page.length - 1].customer_code;
    if (writeError) break;
  }
  if (!writeError) {
    out.end();
    await once(out, 'finish').catch((err: Error) => (writeError ??= err));
  }
  if (writeError) throw new Error(`writing ${csv} failed: ${writeError.message}`);
  if (ctx.json) console.log(JSON.stringify({ runId: workflowId, file: csv, rows: written }));
  else console.log(`Wrote ${written} ${warnings ? 'reject/warning' : 'reject'} row(s) of ${workflowId} to ${csv}`);
  return 0;
}
