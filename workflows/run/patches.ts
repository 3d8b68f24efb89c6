/**
 * Every `patched()` marker of the workflow, in one place: a change to the commands a run issues goes
 * behind a new one, so runs begun by older code replay the old way (test/integration/replay.test.ts).
 */

/** Runs begun before the bulk path existed replay without its two steps (prepareLoadPath, restoreKeys). */
export const BULK_LOAD_PATCH = 'bulk-load-path';
