import * as fs from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE, WORKFLOWS_PATH } from './paths';

/**
 * Bundles the workflow code once at build time: a worker that loads a ready bundle starts faster and
 * never loads webpack, which would otherwise stay in its memory for the life of the process.
 */
async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
  });
  fs.writeFileSync(WORKFLOW_BUNDLE, code);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`error: bundling the workflows failed: ${(err as Error).message}`);
    process.exit(1);
  });
}
