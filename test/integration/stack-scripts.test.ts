/**
 * The stack scripts from a clone where a newcomer would put one: under a folder only its owner may
 * enter (what `mktemp -d` makes, mode 700), with spaces in the path, on ports of its own. As root,
 * PostgreSQL runs as the postgres OS user, who cannot enter such a clone; as an ordinary user it runs
 * as that user. Each clone runs `npm run stack -- up` (which sets up and builds by itself), a seed, a
 * worker and a full run, and `npm run stack -- down`. A taken port stops `up` with one line and exit 1.
 *
 * The clone is a copy of this working tree (what git tracks or would track), with node_modules and
 * the Temporal CLI hard-linked from this checkout instead of downloaded again.
 */
import * as assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { LOCAL_STACK_PORT_DEFAULTS, PROJECT_ROOT } from '../../config/env';
import { freePort, isPortOpen } from '../../stack/local-stack';
import { OsIds, postgresOsUser, SYSTEM_STATE_BASE } from '../../stack/places';
import { resolveTemporalCli } from '../../stack/temporal-cli';
import { until } from '../support/processes';

const IS_ROOT = process.getuid?.() === 0;
const ORDINARY_USER = 'cm-stack-test';

interface Ports {
  pg: number;
  temporal: number;
  ui: number;
}

/** Three free ports, none of them a default of the local stack. */
async function freePorts(): Promise<Ports> {
  const taken = new Set<number>(Object.values(LOCAL_STACK_PORT_DEFAULTS));
  const pick = async () => {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    return port;
  };
  return { pg: await pick(), temporal: await pick(), ui: await pick() };
}

/** An unprivileged user of our own (root only), created once. */
function ordinaryUser(): OsIds {
  const id = (flag: string) => spawnSync('id', [flag, ORDINARY_USER], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    execFileSync('useradd', ['--system', '--user-group', '-M', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', ORDINARY_USER]);
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

/** Hard links where the file system allows them (instant; nothing writes into these), else a copy. */
function linkOrCopy(from: string, to: string): void {
  if (spawnSync('cp', ['-al', from, to]).status !== 0) {
    fs.rmSync(to, { recursive: true, force: true });
    execFileSync('cp', ['-a', from, to]);
  }
}

/** The working tree, as a fresh clone plus `npm ci` and the Temporal CLI would have it, owned by `owner`. */
function makeClone(dir: string, owner: OsIds): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).split('\0');
  for (const file of files.filter(Boolean)) {
    const from = path.join(PROJECT_ROOT, file);
    if (!fs.existsSync(from)) continue; // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(from, path.join(dir, file));
    fs.chmodSync(path.join(dir, file), fs.statSync(from).mode & 0o777);
  }
  fs.mkdirSync(path.join(dir, '.tools', 'bin'), { recursive: true });
  // chowned before the links go in: chowning a hard link would chown this checkout's file.
  if (owner.uid !== undefined) execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, dir]);
  linkOrCopy(path.join(PROJECT_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  linkOrCopy(resolveTemporalCli(), path.join(dir, '.tools', 'bin', 'temporal'));
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Scenario {
  title: string;
  /** undefined: ourselves */
  user?: () => OsIds;
  /** Whether PostgreSQL's data must end up outside the clone. */
  dataOutside: boolean;
}

const scenarios: Scenario[] = IS_ROOT
  ? [
      { title: 'as root (PostgreSQL as the postgres OS user, who cannot enter the clone)', dataOutside: true },
      { title: `as an ordinary user (${ORDINARY_USER})`, user: ordinaryUser, dataOutside: false },
    ]
  : [{ title: 'as this user', dataOutside: false }];

for (const [index, scenario] of scenarios.entries()) {
  describe(`stack scripts from a clone under a mode-700 folder, with spaces in its path, ${scenario.title}`, function () {
    let owner: OsIds;
    let parent: string;
    let clone: string;
    let home: string;
    let ports: Ports;
    let worker: ChildProcess | undefined;
    let dataDir: string | undefined;

    const env = (overrides: Partial<Ports> = {}): NodeJS.ProcessEnv => {
      const p = { ...ports, ...overrides };
      // Nothing of ours leaks in (no URL, no TEMPORAL_*): the defaults must follow the ports.
      return {
        PATH: process.env.PATH,
        HOME: home,
        LANG: 'C.UTF-8',
        LOCAL_PG_PORT: String(p.pg),
        LOCAL_TEMPORAL_PORT: String(p.temporal),
        LOCAL_TEMPORAL_UI_PORT: String(p.ui),
      };
    };

    /** A command in the clone, as the scenario's user, to its end. */
    const run = (cmd: string, args: string[], overrides: Partial<Ports> = {}, timeoutMs = 240_000): Promise<Result> =>
      new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd: clone, env: env(overrides), ...owner, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.once('error', reject);
        child.once('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    const npmStack = (command: string, overrides: Partial<Ports> = {}) => run('npm', ['run', 'stack', '--', command], overrides);
    const status = async () => {
      const r = await run(process.execPath, ['dist/stack/cli.js', 'status', '--json']);
      return JSON.parse(r.stdout);
    };
    const shown = (r: Result) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

    before(async () => {
      owner = scenario.user ? scenario.user() : {};
      parent = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-scripts-'));
      assert.equal(fs.statSync(parent).mode & 0o777, 0o700);
      home = path.join(parent, 'home');
      clone = path.join(parent, 'new folder', 'customer migration');
      fs.mkdirSync(home, { recursive: true });
      fs.mkdirSync(clone, { recursive: true });
      if (owner.uid !== undefined) execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, parent]);
      makeClone(clone, owner);
      ports = await freePorts();
    });

    after(async () => {
      if (worker && worker.exitCode === null) worker.kill('SIGKILL');
      // Whatever a failed test left running is stopped; the clone and its data go.
      if (fs.existsSync(path.join(clone, 'dist', 'stack', 'cli.js'))) await run(process.execPath, ['dist/stack/cli.js', 'down']).catch(() => undefined);
      fs.rmSync(parent, { recursive: true, force: true });
      if (dataDir?.startsWith(`${SYSTEM_STATE_BASE}/`)) fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
    });

    it('`npm run stack -- up` sets up, builds and starts both servers on its ports; status says where the data lives', async () => {
      const up = await npmStack('up');
      assert.equal(up.code, 0, shown(up));
      assert.match(up.stderr, /^temporal CLI: .*\.tools\/bin\/temporal \(temporal version /m, 'scripts/setup-tools.sh ran');
      for (const port of Object.values(ports)) assert.equal(await isPortOpen('127.0.0.1', port), true, `port ${port} answers`);

      const s = await status();
      assert.equal(s.postgres.state, 'up');
      assert.equal(s.postgres.address, `127.0.0.1:${ports.pg}`);
      assert.equal(s.temporal.state, 'up');
      assert.equal(s.temporal.address, `127.0.0.1:${ports.temporal}`);
      assert.equal(s.temporal.ui, `http://127.0.0.1:${ports.ui}`);
      dataDir = path.resolve(clone, s.postgres.dataDir);
      assert.ok(fs.existsSync(path.join(dataDir, 'PG_VERSION')), `a cluster in ${dataDir}`);
      if (scenario.dataOutside) {
        // A folder of this clone's own under the root-owned base, owned by the postgres user alone.
        const pgUser = postgresOsUser();
        const own = path.dirname(dataDir);
        assert.match(own, new RegExp(`^${SYSTEM_STATE_BASE}/[0-9a-f]{16}$`));
        assert.equal(fs.statSync(SYSTEM_STATE_BASE).uid, 0);
        assert.equal(fs.statSync(SYSTEM_STATE_BASE).mode & 0o777, 0o755);
        assert.equal(fs.statSync(own).uid, pgUser.uid);
        assert.equal(fs.statSync(own).mode & 0o777, 0o700);
        assert.ok(fs.readFileSync(path.join(own, 'CLONE'), 'utf8').includes(fs.realpathSync(clone)), 'CLONE names the clone');
        assert.match(s.postgres.dataDirNote, new RegExp(`outside the clone: the postgres OS user cannot enter ${fs.realpathSync(parent)} \\(mode 700\\)`));
        const text = await run(process.execPath, ['dist/stack/cli.js', 'status']);
        assert.ok(text.stdout.includes(`data ${dataDir} (outside the clone`), text.stdout);
      } else {
        assert.equal(dataDir, path.join(clone, '.data', 'pg'));
        assert.equal(s.postgres.dataDirNote, undefined);
      }
      // The logs stay in the clone whoever runs the server.
      assert.match(fs.readFileSync(path.join(clone, '.data', 'logs', 'postgres.log'), 'utf8'), /ready to accept connections/);
      assert.ok(fs.statSync(path.join(clone, '.data', 'temporal', 'temporal.db')).size > 0);
    });

    it('a seed, a worker and a full run on the defaults that follow the ports reach a passing reconciliation', async () => {
      const seeded = await run(process.execPath, ['dist/stack/seed-cli.js', '--rows', '300', '--seed', '7']);
      assert.equal(seeded.code, 0, shown(seeded));

      let log = '';
      worker = spawn(process.execPath, ['dist/worker/main.js'], { cwd: clone, env: env(), ...owner, stdio: ['ignore', 'ignore', 'pipe'] });
      worker.stderr!.on('data', (d) => (log += d));
      await until('the worker to start', () => {
        if (worker!.exitCode !== null) throw new Error(`the worker exited:\n${log}`);
        return log.includes('"msg":"worker started"');
      });
      const full = await run(process.execPath, ['dist/client/main.js', 'full', '--wait', '--json']);
      assert.equal(full.code, 0, shown(full));
      const result = JSON.parse(full.stdout);
      assert.equal(result.status, 'COMPLETED');
      assert.equal(result.reconciliation.ok, true);
      assert.equal(result.counts.loaded + result.counts.rejected, 300);
      assert.ok(result.ui.startsWith(`http://127.0.0.1:${ports.ui}/`), result.ui);

      const db = new Client({ connectionString: `postgres://postgres:postgres@127.0.0.1:${ports.pg}/corebank` });
      await db.connect();
      try {
        const { rows } = await db.query('SELECT count(*)::int AS n FROM customer');
        assert.equal(rows[0].n, result.counts.loaded);
      } finally {
        await db.end();
      }
      worker.kill('SIGTERM');
      await new Promise((resolve) => (worker!.exitCode !== null ? resolve(null) : worker!.once('exit', resolve)));
    });

    it('`npm run stack -- down` stops both; the data stays', async () => {
      const down = await npmStack('down');
      assert.equal(down.code, 0, shown(down));
      assert.match(down.stdout, /temporal: stopped/);
      assert.match(down.stdout, /postgres: stopped/);
      for (const port of Object.values(ports)) assert.equal(await isPortOpen('127.0.0.1', port), false, `port ${port} closed`);
      const s = await status();
      assert.equal(s.postgres.state, 'down');
      assert.equal(s.temporal.state, 'down');
      assert.ok(fs.existsSync(path.join(dataDir!, 'PG_VERSION')));
    });

    if (index > 0) return;

    it('a taken port stops `up` before anything starts: one line naming the port, its holder and the setting; exit 1', async () => {
      const holder = net.createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      const held = (holder.address() as net.AddressInfo).port;
      try {
        const cases: [keyof Ports, string][] = [
          ['pg', 'LOCAL_PG_PORT'],
          ['temporal', 'LOCAL_TEMPORAL_PORT'],
          ['ui', 'LOCAL_TEMPORAL_UI_PORT'],
        ];
        for (const [which, setting] of cases) {
          const r = await run(process.execPath, ['dist/stack/cli.js', 'up'], { [which]: held });
          assert.equal(r.code, 1, shown(r));
          const lines = r.stderr.trim().split('\n');
          assert.equal(lines.length, 1, r.stderr);
          assert.match(
            lines[0],
            new RegExp(`^stack: port ${held} \\(.+\\) on 127\\.0\\.0\\.1 is already taken by pid ${process.pid} \\(.*node.*\\): set ${setting} to a free port`),
          );
          for (const [other, port] of Object.entries(ports)) {
            if (other !== which) assert.equal(await isPortOpen('127.0.0.1', port), false, `nothing started on ${port}`);
          }
        }
        // The same through npm: the exit code reaches the shell.
        const viaNpm = await npmStack('up', { pg: held });
        assert.equal(viaNpm.code, 1, shown(viaNpm));
        assert.match(viaNpm.stderr, new RegExp(`stack: port ${held} .*LOCAL_PG_PORT`));
      } finally {
        holder.close();
      }
    });
  });
}
