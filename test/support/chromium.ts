/**
 * Debian's headless Chromium for tests that look at a page as a person would: installed with
 * apt-get when missing (CI runs as root), started with a fresh profile and no background traffic.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CHROMIUM = '/usr/bin/chromium';

export function ensureChromium(): string {
  if (fs.existsSync(CHROMIUM)) return CHROMIUM;
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['apt-get', 'update', '-qq'],
    ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'chromium', 'fonts-dejavu-core'],
  ]) {
    const [cmd, ...rest] = [...sudo, ...args];
    const r = spawnSync(cmd, rest, { env, encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) throw new Error(`installing chromium failed (${args.join(' ')}): ${r.stderr || r.error?.message}`);
  }
  if (!fs.existsSync(CHROMIUM)) throw new Error('apt-get installed chromium but /usr/bin/chromium is missing');
  return CHROMIUM;
}

/**
 * Runs headless Chromium on a local file with every way out of the machine closed: a proxy that
 * refuses (port 9, discard) catches any fetch the page would make; it must make none.
 */
function chromium(extra: string[], file: string): { stdout: string; stderr: string } {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
  try {
    const r = spawnSync(
      ensureChromium(),
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        '--proxy-server=127.0.0.1:9',
        '--proxy-bypass-list=<-loopback>',
        ...extra,
        `file://${path.resolve(file)}`,
      ],
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 },
    );
    if (r.status !== 0) throw new Error(`chromium exited ${r.status}: ${r.stderr}`);
    return { stdout: r.stdout, stderr: r.stderr };
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** The DOM Chromium built from the page, serialised. */
export function dumpDom(file: string): string {
  return chromium(['--dump-dom', '--virtual-time-budget=2000'], file).stdout;
}

/** A PNG screenshot of the page at the given window size. */
export function screenshot(file: string, png: string, width = 1100, height = 2400): void {
  chromium([`--screenshot=${path.resolve(png)}`, `--window-size=${width},${height}`], file);
  if (!fs.existsSync(png)) throw new Error(`chromium wrote no screenshot to ${png}`);
}
