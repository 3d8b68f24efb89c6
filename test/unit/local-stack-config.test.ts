import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseConfig } from '../../config/env';
import { firstBlockedFolder } from '../../stack/places';

describe('configuration: the local stack ports', () => {
  /** The five settings that point at the local stack, as parseConfig gives them. */
  const pointers = (env: Record<string, string>) => {
    const c = parseConfig(env);
    return [c.SOURCE_DATABASE_URL, c.STAGING_DATABASE_URL, c.DESTINATION_DATABASE_URL, c.TEMPORAL_ADDRESS, c.TEMPORAL_UI_URL];
  };
  const expected = (pg: number, temporal: number, ui: number) => [
    `postgres://postgres:postgres@127.0.0.1:${pg}/efz_source`,
    `postgres://postgres:postgres@127.0.0.1:${pg}/migration_staging`,
    `postgres://postgres:postgres@127.0.0.1:${pg}/corebank`,
    `127.0.0.1:${temporal}`,
    `http://127.0.0.1:${ui}`,
  ];

  it('by default the URLs and the Temporal address point at the local stack on 55432 / 7233 / 8233', () => {
    assert.deepEqual(pointers({}), expected(55432, 7233, 8233));
  });

  it('the defaults follow LOCAL_PG_PORT, LOCAL_TEMPORAL_PORT and LOCAL_TEMPORAL_UI_PORT', () => {
    const ports = { LOCAL_PG_PORT: '45432', LOCAL_TEMPORAL_PORT: '47233', LOCAL_TEMPORAL_UI_PORT: '48233' };
    const c = parseConfig(ports);
    assert.deepEqual([c.LOCAL_PG_PORT, c.LOCAL_TEMPORAL_PORT, c.LOCAL_TEMPORAL_UI_PORT], [45432, 47233, 48233]);
    assert.deepEqual(pointers(ports), expected(45432, 47233, 48233));
  });

  it('a URL or address that is set wins over the ports; a bad port is named', () => {
    const c = parseConfig({ LOCAL_PG_PORT: '45432', SOURCE_DATABASE_URL: 'postgres://u@db.bank:5432/efz', TEMPORAL_ADDRESS: 'temporal:7233' });
    assert.equal(c.SOURCE_DATABASE_URL, 'postgres://u@db.bank:5432/efz');
    assert.equal(c.STAGING_DATABASE_URL, 'postgres://postgres:postgres@127.0.0.1:45432/migration_staging');
    assert.equal(c.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.throws(() => parseConfig({ LOCAL_TEMPORAL_PORT: '70000' }), /LOCAL_TEMPORAL_PORT: /);
    assert.throws(() => parseConfig({ LOCAL_PG_PORT: 'five' }), /LOCAL_PG_PORT: /);
  });
});

describe('local stack: which folders the postgres OS user can enter', () => {
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'places-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('names the first folder on the way that another user may not search, judged by owner, group and other bits', () => {
    const inner = path.join(tmp, 'a b', 'clone', '.data');
    fs.mkdirSync(inner, { recursive: true });
    fs.chmodSync(tmp, 0o700);
    fs.chmodSync(path.join(tmp, 'a b'), 0o755);
    const me = { uid: fs.statSync(tmp).uid, gid: fs.statSync(tmp).gid };
    const other = { uid: 2 ** 30, gid: 2 ** 30 };
    assert.equal(firstBlockedFolder(inner, me), undefined, 'the owner may enter its own 0700 folder');
    assert.equal(firstBlockedFolder(inner, other), fs.realpathSync(tmp));
    assert.equal(firstBlockedFolder(path.join(inner, 'pg', 'not-yet'), other), fs.realpathSync(tmp), 'judged on the part that exists');
    fs.chmodSync(tmp, 0o711);
    assert.equal(firstBlockedFolder(inner, other), undefined, 'search (x) is enough, read is not needed');
    fs.chmodSync(tmp, 0o750);
    assert.equal(firstBlockedFolder(inner, { uid: other.uid, gid: me.gid }), undefined, 'the group bits for the group');
    assert.equal(firstBlockedFolder(inner, {}), undefined, 'ourselves (no uid switch): never blocked');
  });
});
