import { strict as assert } from 'node:assert';
import { DURATION_PATTERN, durationMs, formatDurationMs, isScheduleDuration, parseDuration } from '../../contracts';

describe('the duration format (contracts/duration.ts), one parser for the settings, the workflow and the CLI', () => {
  it('reads a whole number and a unit into milliseconds', () => {
    assert.deepEqual(parseDuration('15m'), { amount: 15, unit: 'm', ms: 900_000 });
    assert.equal(durationMs('500ms'), 500);
    assert.equal(durationMs('30s'), 30_000);
    assert.equal(durationMs('24h'), 86_400_000);
    assert.equal(durationMs(' 2d '), 172_800_000, 'the workflow allows spaces around');
    for (const bad of ['soon', '1.5h', '-1m', '10', 'h', '1 h']) assert.equal(durationMs(bad), null, bad);
  });

  it('checks a setting exactly (no spaces), as FAILED_BATCH_DECISION_TIMEOUT always has', () => {
    assert.ok(DURATION_PATTERN.test('24h') && DURATION_PATTERN.test('0s'));
    assert.ok(!DURATION_PATTERN.test(' 24h') && !DURATION_PATTERN.test('24 h'));
  });

  it('takes a schedule interval in s, m, h or d, positive and without a leading zero', () => {
    for (const good of ['30s', '15m', '1h', '1d', '10m']) assert.ok(isScheduleDuration(good), good);
    for (const bad of ['0s', '015m', '500ms', '1ms', '15', ' 15m']) assert.ok(!isScheduleDuration(bad), bad);
  });

  it('writes milliseconds back in the largest unit that divides them', () => {
    assert.equal(formatDurationMs(900_000), '15m');
    assert.equal(formatDurationMs(86_400_000), '1d');
    assert.equal(formatDurationMs(90_000), '90s');
    assert.equal(formatDurationMs(1500), '1500ms');
    assert.equal(formatDurationMs(0), '0ms');
  });
});
