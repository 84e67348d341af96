import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePortSpecs } from './port-specs.js';
import { PROBES } from './registry.js';

describe('parsePortSpecs', () => {
  it('expands module names to their default ports', () => {
    assert.deepEqual(parsePortSpecs('redis,postgres', PROBES), [
      { module: 'redis', port: 6379 },
      { module: 'postgres', port: 5432 },
    ]);
  });

  it('maps a bare port to its module and takes module:port', () => {
    assert.deepEqual(parsePortSpecs('3306,redis:6380', PROBES), [
      { module: 'mysql', port: 3306 },
      { module: 'redis', port: 6380 },
    ]);
  });

  it('collapses duplicates', () => {
    assert.deepEqual(parsePortSpecs('redis,6379,redis:6379', PROBES), [{ module: 'redis', port: 6379 }]);
  });

  it('defaults to every module’s default ports', () => {
    const all = parsePortSpecs(undefined, PROBES);
    assert.equal(all.length, PROBES.reduce((n, p) => n + p.defaultPorts.length, 0));
  });

  it('rejects unknown modules, unknown ports and bad numbers with the position', () => {
    assert.throws(() => parsePortSpecs('redis,mongo', PROBES), /Unknown module "mongo" at -p item 2; known modules: redis/);
    assert.throws(() => parsePortSpecs('4444', PROBES), /No module listens on port 4444 by default \(-p item 1\); name one as module:4444/);
    assert.throws(() => parsePortSpecs('redis:70000', PROBES), /Port out of range/);
    assert.throws(() => parsePortSpecs('redis,,mysql', PROBES), /Empty entry in -p list at -p item 2/);
  });
});
