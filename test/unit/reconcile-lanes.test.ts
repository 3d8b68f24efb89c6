import { strict as assert } from 'node:assert';
import { reconcileLanes } from '../../activities/reconcile';

describe('reconcileLanes: the reconciliation never has more long connection holders than its pools have connections', () => {
  it('gives the whole-table checks two lanes and the value check the rest, up to the run’s parallelism', () => {
    assert.deepEqual(reconcileLanes(4, 2), { wholeTable: 2, value: 2 });
    assert.deepEqual(reconcileLanes(8, 2), { wholeTable: 2, value: 2 });
    assert.deepEqual(reconcileLanes(8, 6), { wholeTable: 2, value: 6 });
    assert.deepEqual(reconcileLanes(4, 6), { wholeTable: 2, value: 2 });
  });
  it('falls back to one whole-table lane and at least one value lane on small pools', () => {
    assert.deepEqual(reconcileLanes(3, 2), { wholeTable: 1, value: 2 });
    assert.deepEqual(reconcileLanes(2, 2), { wholeTable: 1, value: 1 });
    assert.deepEqual(reconcileLanes(1, 2), { wholeTable: 1, value: 1 });
  });
  it('never lets the lanes together exceed a pool of four or more', () => {
    for (let pool = 4; pool <= 16; pool++)
      for (let concurrency = 1; concurrency <= 16; concurrency++) {
        const lanes = reconcileLanes(pool, concurrency);
        assert.ok(lanes.wholeTable + lanes.value <= pool, `pool ${pool}, concurrency ${concurrency}: ${JSON.stringify(lanes)}`);
      }
  });
});
