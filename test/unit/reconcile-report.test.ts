import { strict as assert } from 'node:assert';
import {
  classifyDifferences,
  emptyBatchCheck,
  EXAMPLES,
  Findings,
  reconciliationReport,
  remapSampled,
  ValueCheckTally,
  type ReconcileFindings,
} from '../../activities/reconcile-report';
import type { ReconciliationCheck } from '../../contracts';

const passed = (name: string): ReconciliationCheck => ({ name, ok: true, detail: `${name} holds` });

/** A full run of two DONE batches whose counts add up, every check passing. */
function cleanRun(): ReconcileFindings {
  const tally = new ValueCheckTally({ batches: 2, recorded: 0, remappedSample: 0, remappedOnDifference: 0, remapFraction: 0.5 });
  tally.add(emptyBatchCheck({ PERSON: { staged: 3, loaded: 2, rejected: 1 } }), 'remappedSample');
  tally.add(emptyBatchCheck({ COMPANY: { staged: 2, loaded: 2, rejected: 0 }, PERSON: { staged: 1, loaded: 1, rejected: 0 } }), 'recorded');
  return {
    run: {
      mode: 'full',
      extraction: { snapshots: [{ at: '2026-01-01T00:00:00Z', afterKey: null }], rowsRead: 6, rowsStaged: 6, keptNewer: 0, sourceCount: 6 },
      snapshot_at: '2026-01-01T00:00:00Z',
      fingerprint: null,
    },
    staged: 6,
    batches: [
      { batch_no: 1, status: 'DONE', by_type: { PERSON: { staged: 3, loaded: 2, rejected: 1 } } },
      { batch_no: 2, status: 'DONE', by_type: { COMPANY: { staged: 2, loaded: 2, rejected: 0 }, PERSON: { staged: 1, loaded: 1, rejected: 0 } } },
    ],
    recomputed: tally.recomputed,
    found: tally.found,
    valueCheck: tally.coverage,
    orphans: new Findings(),
    deletedInSource: new Findings(),
    staleEarlier: new Findings(),
    againstSource: passed('staged_equals_source_snapshot'),
    futureDated: { count: 0, examples: [] },
    fingerprints: passed('one_mapping_fingerprint'),
    checkedAt: '2026-01-01T01:00:00Z',
  };
}

const check = (report: ReturnType<typeof reconciliationReport>, name: string) => report.checks.find((c) => c.name === name)!;

describe('reconciliation report (contract section 5)', () => {
  it('passes a run whose checks all hold, with its counts by type in name order', () => {
    const report = reconciliationReport(cleanRun());
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.checks.map((c) => c.name),
      [
        'staged_equals_source_snapshot',
        'all_batches_done',
        'staged_equals_loaded_plus_rejected',
        'loaded_rows_present_with_stable_ids',
        'no_destination_row_without_staged_source',
        'values_match_mapping',
        'one_mapping_fingerprint',
      ],
    );
    assert.deepEqual(Object.keys(report.byType), ['COMPANY', 'PERSON']);
    assert.deepEqual(report.byType.PERSON, { staged: 4, loaded: 3, rejected: 1 });
    assert.equal(
      check(report, 'staged_equals_loaded_plus_rejected').detail,
      'extracted 6, staged 6; COMPANY: staged 2 = loaded 2 + rejected 0; PERSON: staged 4 = loaded 3 + rejected 1; recorded by the batches: loaded 5, rejected 1',
    );
    assert.equal(
      check(report, 'values_match_mapping').detail,
      'every loaded row matches the mapping (batches: 1 equal to what their load recorded, 1 re-mapped as a sample, 0 re-mapped on a difference)',
    );
    assert.deepEqual(report.valueCheck, { batches: 2, recorded: 1, remappedSample: 1, remappedOnDifference: 0, remapFraction: 0.5 });
    assert.equal(report.snapshotAt, '2026-01-01T00:00:00Z');
  });

  it('fails on a batch not loaded, naming it', () => {
    const f = cleanRun();
    f.batches = [f.batches[0], { batch_no: 2, status: 'FAILED', by_type: null }];
    const report = reconciliationReport(f);
    assert.equal(report.ok, false);
    const notDone = check(report, 'all_batches_done');
    assert.equal(notDone.ok, false);
    assert.equal(notDone.count, 1);
    assert.equal(notDone.detail, '1 batch(es) not loaded: 2');
    // The failed batch recorded nothing: the recorded loaded count no longer matches the recomputed one.
    assert.equal(check(report, 'staged_equals_loaded_plus_rejected').ok, false);
  });

  it('fails when the counts do not add up: a full run that staged fewer rows than it extracted', () => {
    const f = cleanRun();
    f.run.extraction = { ...f.run.extraction!, rowsRead: 7 };
    const report = reconciliationReport(f);
    assert.equal(report.ok, false);
    const counts = check(report, 'staged_equals_loaded_plus_rejected');
    assert.equal(counts.ok, false);
    assert.match(counts.detail, /^extracted 7, staged 6;/);
    assert.deepEqual(
      report.checks.filter((c) => !c.ok).map((c) => c.name),
      ['staged_equals_loaded_plus_rejected'],
    );
  });

  it('does not ask an incremental run for extracted = staged', () => {
    const f = cleanRun();
    f.run.mode = 'incremental';
    f.run.extraction = { ...f.run.extraction!, rowsRead: 9 };
    const report = reconciliationReport(f);
    assert.equal(report.ok, true);
    assert.match(check(report, 'staged_equals_loaded_plus_rejected').detail, /^staged 6;/);
  });

  it('fails on orphans and on a failing check from the source side, keeping that check as given', () => {
    const f = cleanRun();
    f.orphans.count = 3;
    f.againstSource = { name: 'staged_equals_source_snapshot', ok: false, detail: '1 staged row(s) differ from the source row read', count: 1, examples: [42] };
    const report = reconciliationReport(f);
    assert.equal(report.ok, false);
    assert.deepEqual(report.checks[0], f.againstSource);
    assert.equal(check(report, 'no_destination_row_without_staged_source').detail, '3 destination customer(s) with no staged source row (checked id by id)');
  });

  it('names missing, wrong-id and mismatched rows, a customer once, missing first', () => {
    const batch = emptyBatchCheck({});
    const codeOf = new Map([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    classifyDifferences(
      [
        { id: 'a', missing: false, wrong_id: false, columns: ['customer.name'] },
        { id: 'a', missing: true, wrong_id: false, columns: [] },
        { id: 'b', missing: false, wrong_id: true, columns: [] },
        { id: 'c', missing: false, wrong_id: false, columns: ['customer_profile.email'] },
      ],
      codeOf,
      batch,
    );
    assert.deepEqual([batch.missing.examples, batch.wrongIds.examples, batch.mismatched.examples], [[1], [2], [3]]);
    assert.deepEqual([...batch.mismatchedColumns], ['customer.name', 'customer_profile.email']);

    const f = cleanRun();
    f.valueCheck.remappedOnDifference++;
    f.found = batch;
    const report = reconciliationReport(f);
    assert.equal(report.ok, false);
    const present = check(report, 'loaded_rows_present_with_stable_ids');
    assert.equal(present.count, 2);
    assert.deepEqual(present.examples, [1, 2]);
    assert.equal(
      check(report, 'values_match_mapping').detail,
      '1 row(s) differ from the mapping, in customer.name, customer_profile.email (batches: 1 equal to what their load recorded, 1 re-mapped as a sample, 1 re-mapped on a difference)',
    );
  });

  it('lists stale customers of this run and earlier runs together, examples capped', () => {
    const f = cleanRun();
    for (let code = 1; code <= 15; code++) f.found.stale.add(code);
    for (let code = 100; code < 110; code++) f.staleEarlier.add(code);
    f.deletedInSource.add(7);
    const report = reconciliationReport(f);
    assert.equal(report.ok, true, 'stale and deleted customers are listed, not failed');
    assert.equal(report.stale.count, 25);
    assert.equal(report.stale.examples.length, EXAMPLES);
    assert.deepEqual(report.stale.examples.slice(14, 16), [15, 100]);
    assert.deepEqual(report.deletedInSource, { count: 1, examples: [7], via: 'item by item' });
  });

  it('samples batch 1 and then evenly spread batches', () => {
    const picked = (fraction: number) => Array.from({ length: 10 }, (_, i) => i + 1).filter((n) => remapSampled(fraction, n));
    assert.deepEqual(picked(0), []);
    assert.deepEqual(picked(1), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(picked(0.25), [1, 4, 8]);
  });
});
