import { Context } from '@temporalio/activity';

/**
 * Runs `work` while heartbeating every `everyMs` (the SDK throttles what reaches the server), so a
 * long single statement (a lock wait, a big INSERT … SELECT) does not look like a dead worker to
 * the activity's heartbeat timeout. A worker process that dies stops heartbeating at once, which is
 * what the timeout is for. Hung statements stay bounded by statement_timeout and startToClose.
 *
 * The heartbeats carry no details: not for activities that resume from their heartbeat details
 * (extract), whose details these would replace.
 */
export async function heartbeatWhile<T>(work: () => Promise<T>, everyMs = 5_000): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    return work(); // outside an activity
  }
  const timer = setInterval(() => ctx!.heartbeat(), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** True when Temporal asked the current activity to stop (false outside an activity). */
export function cancelRequested(): boolean {
  try {
    return Context.current().cancellationSignal.aborted;
  } catch {
    return false;
  }
}
