import { strict as assert } from 'node:assert';
import type { Progress } from '../../contracts';
import { inputProblems } from '../../workflows/run/input';
import { detailsText } from '../../workflows/run/progress';
import { rejectLimitHit } from '../../workflows/run/window';

describe('workflow parts that are pure functions (workflows/run/)', () => {
  it('inputProblems names every bad value of a run input at once', () => {
    assert.deepEqual(inputProblems({ mode: 'full' }), []);
    assert.deepEqual(inputProblems({ mode: 'incremental', batchSize: 100, decisionTimeout: '3s', rejectMaxRatio: 0.5 }), []);
    const problems = inputProblems({ mode: 'full', parallelism: 0, decisionTimeout: 'soon', rejectMaxCount: -1, reconcileRemapFraction: 2 });
    assert.equal(problems.length, 4, problems.join('; '));
    assert.match(problems.join('; '), /parallelism must be a whole number of at least 1, not 0; rejectMaxCount .* decisionTimeout must be a duration/);
    assert.match(inputProblems({ mode: 'sometimes' } as never)[0], /^mode must be "full" or "incremental"/);
  });

  it('rejectLimitHit stops on a count above the limit, and on a ratio only over a fair sample', () => {
    const limits = { rejectMaxCount: null, rejectMaxRatio: 0.1 };
    assert.equal(rejectLimitHit({ staged: 10_000, loaded: 400, rejected: 100 }, limits), null, '500 processed of 10,000: too few to judge');
    assert.match(rejectLimitHit({ staged: 10_000, loaded: 800, rejected: 200 }, limits) ?? '', /20\.0% of 1000 processed, above the limit of 10\.0%/);
    assert.match(rejectLimitHit({ staged: 50, loaded: 40, rejected: 10 }, limits) ?? '', /of 50 processed/, 'a small run is judged on every row');
    assert.match(
      rejectLimitHit({ staged: 100, loaded: 10, rejected: 6 }, { rejectMaxCount: 5, rejectMaxRatio: null }) ?? '',
      /rejected rows 6 exceed the limit of 5/,
    );
    assert.equal(rejectLimitHit({ staged: 100, loaded: 10, rejected: 5 }, { rejectMaxCount: 5, rejectMaxRatio: null }), null);
  });

  it('detailsText shows a waiting run with its deadline and the last decision', () => {
    const p: Progress = {
      runId: 7,
      pipeline: 'efz_customer',
      mode: 'full',
      phase: 'awaiting-decision',
      status: 'RUNNING',
      note: null,
      counts: { extracted: 10, staged: 10, loaded: 8, rejected: 1, warned: 0 },
      batches: { total: 2, done: 1, running: 0, failed: 1, pending: 0 },
      failedBatches: [{ batchNo: 2, error: 'boom', attempts: 3 }],
      rowsPerSecond: null,
      etaSeconds: null,
      decisionDeadline: '2030-01-01T00:00:00.000Z',
      decisions: [{ at: '2030-01-01T00:00:00.000Z', action: 'retry', via: 'update', batches: [2] }],
      startedAt: '2030-01-01T00:00:00.000Z',
      loadStartedAt: null,
      watermarkBefore: null,
      watermarkAfter: null,
      reconciliation: null,
      error: null,
    };
    const text = detailsText(p).split('\n\n');
    assert.equal(text[0], '**full run 7** of efz_customer: phase **awaiting-decision**');
    assert.ok(text.includes('failed batches: 2 (3 attempts: boom)'));
    assert.ok(text.some((t) => t.startsWith('**waiting for a decision** until 2030-01-01T00:00:00.000Z')));
    assert.equal(text[text.length - 1], 'last decision: retry 2 via update at 2030-01-01T00:00:00.000Z');
  });
});
