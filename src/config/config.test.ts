import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_SCAN, identityString, loadConfig, parseConfigFile, validateConfig } from './config.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-config-'));
function write(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

describe('config', () => {
  it('reads the documented schema', () => {
    const f = write(
      'ok.yaml',
      `identity:\n  name: acme-scanner\n  contact: https://acme.example/security\nscope:\n  authorized: [10.0.0.0/8]\nexclude: [10.9.0.0/16]\nexcludeFile: optout.txt\nscan:\n  rate: 200\n  concurrency: 64\n`,
    );
    const cfg = parseConfigFile(f);
    assert.equal(cfg.identity.name, 'acme-scanner');
    assert.deepEqual(cfg.scope.authorized, ['10.0.0.0/8']);
    assert.deepEqual(cfg.exclude, ['10.9.0.0/16']);
    assert.equal(cfg.excludeFile, path.join(dir, 'optout.txt'), 'relative to the config file');
    assert.equal(cfg.scan.rate, 200);
    assert.equal(cfg.scan.timeoutMs, DEFAULT_SCAN.timeoutMs);
    assert.equal(identityString(cfg, '0.1.0'), 'acme-scanner/0.1.0 (+https://acme.example/security)');
  });

  it('rejects unknown keys so a typo cannot silently widen a scan', () => {
    assert.throws(() => validateConfig({ scope: { authorised: ['0.0.0.0/0'] } }, 'x.yaml'), /Unknown setting scope\.authorised in x\.yaml; known: scope\.authorized/);
  });

  it('enforces hard limits', () => {
    assert.throws(() => validateConfig({ scan: { readCapBytes: 1 << 30 } }, 'x.yaml'), /above the hard limit/);
    assert.throws(() => validateConfig({ scan: { rate: -1 } }, 'x.yaml'), /positive integer/);
    assert.throws(() => validateConfig({ identity: { name: 'has space' } }, 'x.yaml'), /identity\.name/);
  });

  it('names the line of a YAML syntax error', () => {
    const f = write('bad.yaml', 'scope:\n  authorized: [10.0.0.0/8\n');
    assert.throws(() => parseConfigFile(f), /bad\.yaml line \d+ is not valid YAML/);
  });

  it('fails clearly on a missing explicit file', () => {
    assert.throws(() => loadConfig(path.join(dir, 'nope.yaml')), /does not exist/);
  });
});
