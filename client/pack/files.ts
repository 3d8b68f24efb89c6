import * as fs from 'node:fs';

/**
 * Writes an artifact the operator asked for (a page, a CSV): created with mode 0600 (it may hold
 * customer data: only its owner reads it until they hand it on), replaced whole if it exists.
 * A path that cannot be written is the operator's to fix: one line, a UsageError.
 */
export function openArtifact(file: string): number {
  try {
    // An existing file keeps its mode on open: make it private first, then truncate.
    if (fs.existsSync(file)) fs.chmodSync(file, 0o600);
    return fs.openSync(file, 'w', 0o600);
  } catch (err) {
    throw Object.assign(new Error(`cannot write ${file}: ${(err as Error).message}`), { name: 'UsageError' });
  }
}

export function writeArtifact(file: string, text: string): void {
  const fd = openArtifact(file);
  try {
    fs.writeFileSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
}
