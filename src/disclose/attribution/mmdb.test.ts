import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type MmdbFiles, writeTestMmdb } from '../../../test/helpers/attribution-servers.js';
import { closeMmdbReaders, lookupMmdb } from './mmdb.js';

/** Databases written by MaxMind's own Perl writer (test/fixtures/mmdb/write-mmdb.pl), read with `maxmind`. */
describe('lookupMmdb', () => {
  let files: MmdbFiles;
  before(() => {
    files = writeTestMmdb();
  });
  after(() => {
    closeMmdbReaders();
    rmSync(files.dir, { recursive: true, force: true });
  });

  it('reads ASN, organisation and country of an IPv4 address', async () => {
    const r = await lookupMmdb('192.0.2.10', { asn: files.asn, country: files.country });
    assert.deepEqual(r, { asn: { number: 64500, org: 'Example Hosting', network: '192.0.2.0/24' }, geo: { country: 'CN' }, errors: [] });
  });

  it('reads the city from a City database, and its country when no Country database is set', async () => {
    const r = await lookupMmdb('198.51.100.7', { city: files.city });
    assert.deepEqual(r, { geo: { country: 'DE', city: 'Berlin' }, errors: [] });
  });

  it('prefers the Country database for the country and adds the City database\'s city', async () => {
    const r = await lookupMmdb('127.0.40.2', { asn: files.asn, country: files.country, city: files.city });
    assert.deepEqual(r.geo, { country: 'CN', city: 'Shenzhen' });
    assert.deepEqual(r.asn, { number: 64510, org: 'Loopback Test Hosting', network: '127.0.40.0/24' });
  });

  it('reads IPv6 addresses', async () => {
    const r = await lookupMmdb('2001:db8::1', { asn: files.asn, country: files.country });
    assert.deepEqual(r, { asn: { number: 64502, org: 'Example IPv6 Transit', network: '2001:db8::/32' }, geo: { country: 'AU' }, errors: [] });
  });

  it('treats an address the databases do not cover as no data, not as an error', async () => {
    const r = await lookupMmdb('203.0.113.1', { asn: files.asn, country: files.country, city: files.city });
    assert.deepEqual(r, { errors: [] });
  });

  it('reports a missing file, a file that is no database, and a database of the wrong kind', async () => {
    const junk = path.join(files.dir, 'junk.mmdb');
    writeFileSync(junk, 'this is not a MaxMind database');
    const missing = path.join(files.dir, 'missing.mmdb');
    const r = await lookupMmdb('192.0.2.10', { asn: missing, country: junk });
    assert.equal(r.errors.length, 2);
    assert.match(r.errors[0]!, new RegExp(`^Could not open the ASN database ${missing}: .*ENOENT`));
    assert.match(r.errors[1]!, new RegExp(`^Could not open the country database ${junk}: `));
    const wrong = await lookupMmdb('192.0.2.10', { asn: files.notAsn });
    assert.deepEqual(wrong.errors, [`The ASN database ${files.notAsn} has a record for 192.0.2.10 without autonomous_system_number; is it an ASN database?`]);
    assert.equal(wrong.asn, undefined);
  });
});
