import { unwatchFile, watchFile } from 'node:fs';
import { type Config, type SampleSettings, type ScanDefaults } from '../config/config.js';
import { ExclusionSet } from '../targets/exclusion.js';
import { readSpecFile } from '../targets/sources.js';
import { type TargetSpecInput } from '../targets/target-space.js';
import { type ScannerOptions } from './scanner.js';

/**
 * What every stored job that runs the scan engine (a scan, an import verification) keeps in its spec,
 * so that a resume runs with the same limits, identity, scope and exclusions.
 */
export interface EngineSpec {
  /** Exclusions from the config and the command line (the files are re-read live and on resume). */
  excludes: TargetSpecInput[];
  /** Exclusion files (config's and --exclude-file), re-read while the job runs and on resume. */
  excludeFiles: string[];
  authorized: string[];
  checkDefaultCredentials: boolean;
  settings: ScanDefaults;
  identity: string;
  clientName: string;
}

/** The config's exclusions (its `exclude` list and `excludeFile`) plus the command line's. */
export function jobExclusions(
  config: Pick<Config, 'exclude' | 'excludeFile' | 'source'>,
  extra: { excludes?: readonly TargetSpecInput[]; excludeFiles?: readonly string[] } = {},
): Pick<EngineSpec, 'excludes' | 'excludeFiles'> {
  return {
    excludes: [...config.exclude.map((text, i) => ({ text, source: `${config.source} exclude[${i}]` })), ...(extra.excludes ?? [])],
    excludeFiles: [...(config.excludeFile ? [config.excludeFile] : []), ...(extra.excludeFiles ?? [])],
  };
}

/** The scope an operator may audit deeply (config `scope.authorized`). */
export function authorizedSet(authorized: readonly string[]): ExclusionSet {
  return ExclusionSet.fromSpecs(authorized.map((text, i) => ({ text, source: `scope.authorized[${i}]` })));
}

/** The spec's exclusions with the files read now (hostnames resolved). */
export async function readExclusions(spec: Pick<EngineSpec, 'excludes' | 'excludeFiles'>): Promise<ExclusionSet> {
  return ExclusionSet.build([...spec.excludes, ...(await readExcludeFiles(spec.excludeFiles))]);
}

export async function readExcludeFiles(files: readonly string[]): Promise<TargetSpecInput[]> {
  const all: TargetSpecInput[] = [];
  for (const f of files) all.push(...(await readSpecFile(f)));
  return all;
}

/**
 * Re-read the exclusion files whenever they change, so an opt-out takes effect mid-run; a file that
 * cannot be read keeps the previous list and is reported. Returns the stop function.
 */
export function watchExclusions(
  spec: Pick<EngineSpec, 'excludes' | 'excludeFiles'>,
  apply: (set: ExclusionSet) => void,
  onWarning?: (message: string) => void,
): () => void {
  if (spec.excludeFiles.length === 0) return () => undefined;
  const reload = (): void => {
    readExclusions(spec)
      .then(apply)
      .catch((err: Error) => onWarning?.(`An exclusion file could not be re-read, keeping the previous list: ${err.message}`));
  };
  for (const file of spec.excludeFiles) watchFile(file, { interval: 500 }, reload);
  return () => {
    for (const file of spec.excludeFiles) unwatchFile(file, reload);
  };
}

/** The scan engine's limits, probe context, scope test and (when on) value sampling, as the spec stored them. */
export function engineOptions(
  spec: Omit<EngineSpec, 'excludes' | 'excludeFiles'>,
  sample?: SampleSettings,
): Pick<ScannerOptions, 'concurrency' | 'rate' | 'probeContext' | 'isAuthorized' | 'samplePlan'> {
  const authorized = authorizedSet(spec.authorized);
  return {
    concurrency: spec.settings.concurrency,
    rate: spec.settings.rate,
    probeContext: {
      connectTimeoutMs: spec.settings.connectTimeoutMs,
      timeoutMs: spec.settings.timeoutMs,
      readCap: spec.settings.readCapBytes,
      identity: spec.identity,
      clientName: spec.clientName,
      checkDefaultCredentials: spec.checkDefaultCredentials,
    },
    isAuthorized: (host) => authorized.has(host),
    ...(sample?.enabled ? { samplePlan: { perCollection: sample.perCollection, maxBytes: sample.maxBytes, maxCollections: sample.maxCollections } } : {}),
  };
}
