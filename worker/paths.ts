import * as path from 'node:path';

/** The workflow code's entry point, and where the build leaves its ready bundle (both under dist/). */
export const WORKFLOWS_PATH = require.resolve('../workflows');
export const WORKFLOW_BUNDLE = path.resolve(__dirname, '..', 'workflow-bundle.js');
