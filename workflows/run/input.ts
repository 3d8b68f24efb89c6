import { durationMs, MigrationInput } from '../../contracts';

/**
 * The input comes from the CLI (checked there), but also from the Temporal UI and schedules: a bad
 * value must fail the run at once with a clear message, not loop (parallelism 0) or break a timer.
 */
export function inputProblems(input: MigrationInput): string[] {
  const problems: string[] = [];
  const positive = (name: keyof MigrationInput) => {
    const v = input[name];
    if (v !== undefined && v !== null && !(Number.isInteger(v) && (v as number) >= 1))
      problems.push(`${name} must be a whole number of at least 1, not ${JSON.stringify(v)}`);
  };
  const fraction = (name: keyof MigrationInput) => {
    const v = input[name];
    if (v !== undefined && v !== null && !(typeof v === 'number' && v >= 0 && v <= 1))
      problems.push(`${name} must be a number from 0 to 1, not ${JSON.stringify(v)}`);
  };
  if (input?.mode !== 'full' && input?.mode !== 'incremental') problems.push(`mode must be "full" or "incremental", not ${JSON.stringify(input?.mode)}`);
  positive('batchSize');
  positive('parallelism');
  positive('loadAttempts');
  positive('historyHandover');
  if (input.rejectMaxCount !== undefined && input.rejectMaxCount !== null && !(Number.isInteger(input.rejectMaxCount) && input.rejectMaxCount >= 0))
    problems.push(`rejectMaxCount must be a whole number of at least 0, not ${JSON.stringify(input.rejectMaxCount)}`);
  fraction('rejectMaxRatio');
  fraction('reconcileRemapFraction');
  if (
    input.decisionTimeout !== undefined &&
    input.decisionTimeout !== null &&
    (typeof input.decisionTimeout !== 'string' || durationMs(input.decisionTimeout) === null)
  )
    problems.push(`decisionTimeout must be a duration like "30m", "24h" or "2d", not ${JSON.stringify(input.decisionTimeout)}`);
  return problems;
}
