import { strict as assert } from 'node:assert';
import { decisionHint, formatDuration, ProgressPrinter, progressDetails, progressLine } from '../../client/render';
import type { Progress } from '../../workflows/definitions';

function progress(overrides: Partial<Progress> = {}): Progress {
  return {
    runId: 7,
    pipeline: 'efz_customer',
    mode: 'full',
    phase: 'loading',
    status: 'RUNNING',
    note: null,
    counts: { extracted: 1000, staged: 1000, loaded: 450, rejected: 50, warned: 20 },
    batches: { total: 10, done: 5, running: 2, failed: 0, pending: 3 },
    failedBatches: [],
    rowsPerSecond: 250,
    etaSeconds: 2,
    decisionDeadline: null,
    decisions: [],
    startedAt: '2025-01-01T00:00:00.000Z',
    loadStartedAt: '2025-01-01T00:00:05.000Z',
    watermarkBefore: null,
    watermarkAfter: null,
    reconciliation: null,
    error: null,
    ...overrides,
  };
}

class FakeStream {
  text = '';
  constructor(readonly isTTY: boolean) {}
  write(s: string) {
    this.text += s;
    return true;
  }
}

describe('client/render', () => {
  it('progressLine shows phase, bar, counts, batches, rate and ETA while loading', () => {
    const line = progressLine(progress());
    assert.match(line, /^\[loading\]/);
    assert.match(line, / 50\.0%/);
    assert.match(line, /loaded 450  rejected 50  warned 20/);
    assert.match(line, /batches 5\/10 \(2 running\)/);
    assert.match(line, /250 rows\/s/);
    assert.match(line, /ETA 2s/);
  });

  it('progressLine has no bar before planning and marks failed batches', () => {
    const extracting = progressLine(
      progress({ phase: 'extracting', counts: { extracted: 300, staged: 0, loaded: 0, rejected: 0, warned: 0 }, rowsPerSecond: null, etaSeconds: null }),
    );
    assert.doesNotMatch(extracting, /%/);
    assert.match(extracting, /extracted 300/);
    const waiting = progressLine(progress({ phase: 'awaiting-decision', batches: { total: 10, done: 9, running: 0, failed: 1, pending: 0 } }));
    assert.match(waiting, /batches 9\/10 \(1 FAILED\)/);
    assert.doesNotMatch(waiting, /ETA/);
  });

  it('progressDetails lists failed batches, the decision hint and the decisions taken', () => {
    const p = progress({
      phase: 'awaiting-decision',
      failedBatches: [{ batchNo: 3, attempts: 5, error: 'boom' }],
      decisionDeadline: '2025-01-02T00:00:00.000Z',
      decisions: [{ at: '2025-01-01T01:00:00.000Z', action: 'retry', via: 'signal', batches: [3] }],
      watermarkBefore: '2024-12-31 00:00:00+00',
    });
    const text = progressDetails(p, 'wf-1').join('\n');
    assert.match(text, /FAILED batch 3 after 5 attempt\(s\): boom/);
    assert.match(text, /WAITING for a decision on 1 failed batch\(es\) until 2025-01-02T00:00:00.000Z/);
    assert.match(text, /migrate -- retry wf-1/);
    assert.match(text, /decision: retry of batch\(es\) 3 via signal/);
    assert.match(text, /watermark: 2024-12-31 00:00:00\+00 \(moves only when the run completes clean\)/);
    assert.deepEqual(decisionHint(progress(), 'wf-1'), []);
  });

  it('progressDetails says whether a finished run moved the watermark', () => {
    const moved = progressDetails(progress({ phase: 'finished', status: 'COMPLETED', watermarkBefore: 'a', watermarkAfter: 'b' }), 'x').join('\n');
    assert.match(moved, /watermark: a → b/);
    const kept = progressDetails(progress({ phase: 'finished', status: 'ABORTED', watermarkBefore: 'a', watermarkAfter: 'a' }), 'x').join('\n');
    assert.match(kept, /watermark: a → \(unchanged\)/);
  });

  it('ProgressPrinter redraws one line on a terminal and keeps a line per phase', () => {
    const out = new FakeStream(true);
    const printer = new ProgressPrinter({ stream: out, onPhase: (p) => (p.phase === 'awaiting-decision' ? ['HINT'] : []) });
    printer.update(progress({ phase: 'extracting' }));
    printer.update(progress({ phase: 'loading' }));
    printer.update(progress({ phase: 'loading', counts: { extracted: 1000, staged: 1000, loaded: 900, rejected: 50, warned: 20 } }));
    printer.update(progress({ phase: 'awaiting-decision' }));
    printer.done();
    assert.equal(out.text.split('\n').length - 1, 4, 'extracting, loading, HINT and the final line end with a newline');
    assert.equal((out.text.match(/\r\x1b\[2K/g) ?? []).length, 5);
    assert.match(out.text, /HINT\n/);
    assert.ok(out.text.endsWith('\n'));
  });

  it('ProgressPrinter cuts the redrawn line to the terminal width', () => {
    const out = Object.assign(new FakeStream(true), { columns: 60 });
    new ProgressPrinter({ stream: out }).update(progress());
    const drawn = out.text.replace(/\r\x1b\[2K/g, '');
    assert.ok(drawn.length < 60, drawn);
    assert.ok(drawn.endsWith('…'));
  });

  it('ProgressPrinter off a terminal prints phase changes and at most one line per interval', () => {
    const out = new FakeStream(false);
    let now = 0;
    const printer = new ProgressPrinter({ stream: out, intervalMs: 10_000, now: () => now });
    printer.update(progress({ phase: 'loading' }));
    now = 1000;
    printer.update(progress({ counts: { extracted: 1000, staged: 1000, loaded: 600, rejected: 50, warned: 20 } }));
    now = 11_000;
    printer.update(progress({ counts: { extracted: 1000, staged: 1000, loaded: 700, rejected: 50, warned: 20 } }));
    printer.update(progress({ phase: 'awaiting-decision' }));
    const lines = out.text.trimEnd().split('\n');
    assert.equal(lines.filter((l) => l.startsWith('[')).length, 3);
    assert.ok(
      lines.some((l) => l.includes('WAITING for a decision')),
      'the default hint for a waiting run',
    );
    assert.doesNotMatch(out.text, /\x1b/);
  });

  it('formatDuration', () => {
    assert.equal(formatDuration(null), '?');
    assert.equal(formatDuration(59), '59s');
    assert.equal(formatDuration(61), '1m01s');
    assert.equal(formatDuration(3 * 3600 + 120), '3h02m');
  });
});
