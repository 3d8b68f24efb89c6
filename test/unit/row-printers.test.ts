import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { ident } from '../../db/copy';
import { linePrinter, rowPrinters } from '../../db/pg-text';

const sha256 = (text: string) => createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');

describe('rowPrinters: a batch of customer and profile rows as the load COPYs and digests them', () => {
  const customer = linePrinter(
    [
      { name: 'id', dataType: 'uuid' },
      { name: 'name', dataType: 'text' },
    ],
    ident,
  );
  const profile = linePrinter(
    [
      { name: 'customerId', dataType: 'uuid' },
      { name: 'extra', dataType: 'jsonb' },
    ],
    ident,
  );

  it('puts the lines in customer-id order (ids lower-cased) and digests exactly those bytes', () => {
    const printer = rowPrinters(customer, profile, 0)();
    printer.add(['BBBB0000-0000-4000-8000-000000000002', 'Bo'], ['bbbb0000-0000-4000-8000-000000000002', { b: 1, a: 'x' }]);
    printer.add(['aaaa0000-0000-4000-8000-000000000001', 'Ada\tL'], ['aaaa0000-0000-4000-8000-000000000001', null]);
    const printed = printer.finish();
    assert.deepEqual(printed.ids, ['aaaa0000-0000-4000-8000-000000000001', 'bbbb0000-0000-4000-8000-000000000002']);
    const customerText = 'aaaa0000-0000-4000-8000-000000000001\tAda\\tL\nbbbb0000-0000-4000-8000-000000000002\tBo\n';
    const profileText = 'aaaa0000-0000-4000-8000-000000000001\t\\N\nbbbb0000-0000-4000-8000-000000000002\t{"a": "x", "b": 1}\n';
    assert.equal(printed.customerLines.all().toString('utf8'), customerText);
    assert.equal(printed.profileLines.all().toString('utf8'), profileText);
    assert.deepEqual(printed.digest, { customers: 2, customerDigest: sha256(customerText), profiles: 2, profileDigest: sha256(profileText) });
  });

  it('gives an empty batch the digest of no bytes', () => {
    const printed = rowPrinters(customer, profile, 0)().finish();
    assert.deepEqual(printed.ids, []);
    assert.deepEqual(printed.digest, { customers: 0, customerDigest: sha256(''), profiles: 0, profileDigest: sha256('') });
  });
});
