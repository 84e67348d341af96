import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as assess from './index.js';

test('the public export list of the assessment layer is pinned', () => {
  assert.deepEqual(Object.keys(assess).sort(), [
    'DETECTOR_IDS',
    'RULE_FILES',
    'RulesError',
    'SAMPLE_DEFAULTS',
    'SAMPLE_HARD_CAPS',
    'assessCompromise',
    'assessSample',
    'builtinRules',
    'createDetectors',
    'defaultDetectors',
    'loadRules',
    'schemaSignals',
    'severityOf',
  ]);
  assert.ok(Object.isFrozen(assess.SAMPLE_HARD_CAPS));
  assert.deepEqual({ ...assess.SAMPLE_HARD_CAPS }, {
    maxDocuments: 100,
    maxBytes: 1_048_576,
    maxDepth: 32,
    maxValuesPerDocument: 10_000,
    maxFieldPaths: 100,
    maxEmbeddedPerValue: 20,
    maxJsonText: 262_144,
  });
});
