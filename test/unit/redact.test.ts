import { strict as assert } from 'node:assert';
import { redactSecrets, safeUrl } from '../../lib/redact';

describe('redactSecrets: no password, key or token survives in a log line or message', () => {
  const cases: [string, string, string][] = [
    ['postgres URL', 'connect postgres://migrator:S3cr3t!@db.bank:5432/efz failed', 'connect postgres://migrator:***@db.bank:5432/efz failed'],
    ['postgresql scheme, no port', 'postgresql://u:pw@host/db', 'postgresql://u:***@host/db'],
    ['empty user', 'postgres://:onlypass@host/db', 'postgres://:***@host/db'],
    ['percent-encoded password', 'postgres://u:p%40ss%3Aword@host/db', 'postgres://u:***@host/db'],
    ['raw @ and : inside the password', 'url=postgres://u:p@ss:w@rd@host:5432/db end', 'url=postgres://u:***@host:5432/db end'],
    ['two URLs in one line', 'a postgres://a:one@h1/db and postgres://b:two@h2/db', 'a postgres://a:***@h1/db and postgres://b:***@h2/db'],
    ['inside JSON', '{"url":"postgres://u:pw@h/db","x":1}', '{"url":"postgres://u:***@h/db","x":1}'],
    ['password query parameter', 'postgres://u@h/db?sslmode=require&password=qwerty&x=1', 'postgres://u@h/db?sslmode=require&password=***&x=1'],
    ['libpq key/value DSN', 'host=db user=migrator password=hunter2 dbname=efz', 'host=db user=migrator password=*** dbname=efz'],
    ['quoted DSN value', "host=db password='with space' dbname=efz", 'host=db password=*** dbname=efz'],
    ['sslpassword', 'sslkey=/k.pem sslpassword=keypass', 'sslkey=/k.pem sslpassword=***'],
    ['api key parameter', 'https://x/api?api_key=abcdef123456', 'https://x/api?api_key=***'],
    ['JSON password property', '{"user":"u","password":"p\\"w"}', '{"user":"u","password":"***"}'],
    ['JSON env dump', '{"TEMPORAL_API_KEY":"tmprl_abc.def","PGPASSWORD":"x1"}', '{"TEMPORAL_API_KEY":"***","PGPASSWORD":"***"}'],
    ['bearer token', 'authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig', 'authorization: Bearer ***'],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.equal(redactSecrets(input), expected));
  }

  it('leaves ordinary text alone', () => {
    for (const text of [
      'password authentication failed for user "postgres"',
      'batch 3 of run 12 loaded 500 rows',
      'http://127.0.0.1:8233/namespaces/default/workflows/x',
      'postgres://migrator@db.bank:5432/efz',
      'cannot reach Temporal at 127.0.0.1:7233',
      'a@b.example wrote: see https://docs.temporal.io',
    ]) {
      assert.equal(redactSecrets(text), text);
    }
  });

  it('is idempotent', () => {
    const once = redactSecrets('postgres://u:pw@h/db password=x');
    assert.equal(redactSecrets(once), once);
  });

  it('safeUrl masks the password and secret parameters of one URL', () => {
    assert.equal(safeUrl('postgres://u:pw@h:5432/db?sslmode=require&password=x'), 'postgres://u:***@h:5432/db?sslmode=require&password=***');
    assert.equal(safeUrl('postgres://u@h/db'), 'postgres://u@h/db');
    assert.equal(safeUrl('not a url password=x'), 'not a url password=***');
  });
});
