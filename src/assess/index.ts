/**
 * The assessment layer: pure functions over data a probe (or a bounded sample) already produced.
 * - schemaSignals: sensitive categories from names (metadata; allowed for every target)
 * - assessSample: value detectors over a bounded sample (inside scope.authorized only) — redacted output
 * - assessCompromise: ransom notes, wiped data, planted Redis payloads
 * - severityOf: a documented, deterministic score with reasons
 * Rules (data) live in src/rules/ and load with loadRules/builtinRules.
 */
export { schemaSignals, type SchemaEntry, type SchemaMatch, type SchemaSignal, type SchemaSignalOptions } from './schema-signals.js';
export {
  assessSample,
  SAMPLE_DEFAULTS,
  SAMPLE_HARD_CAPS,
  type CategoryFinding,
  type DetectorFinding,
  type FieldCount,
  type SampleAssessment,
  type SampleCollection,
  type SampleInput,
  type SampleLimit,
  type SampleOptions,
  type SampleRecord,
} from './sample.js';
export { assessCompromise, type CompromiseAssessment, type CompromiseInput, type CompromiseMatch, type NamespaceInfo } from './compromise.js';
export { severityOf, type SensitiveCount, type Severity, type SeverityInput, type SeverityLevel } from './severity.js';
export { createDetectors, defaultDetectors, type DetectorOptions, type DetectorSet } from './detectors/registry.js';
export { DETECTOR_IDS, type DetectContext, type Detector, type DetectorId } from './detectors/types.js';
export { type Redacted } from './mask.js';
export { type FieldPath } from './field-path.js';
export { builtinRules, loadRules, RULE_FILES, type Rules } from '../rules/load.js';
export { RulesError } from '../rules/validate.js';
