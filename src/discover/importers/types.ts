import { type NewCandidate } from '../../store/store.js';

/** The export formats `lockdown import` reads (each with its documented variants; see test/fixtures/import/README.md). */
export const IMPORT_FORMATS = ['shodan', 'censys', 'masscan', 'nmap', 'zgrab2'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export function isImportFormat(text: string): text is ImportFormat {
  return (IMPORT_FORMATS as readonly string[]).includes(text);
}

/** A candidate as a parser produces it; the import runner numbers it (`position`). */
export type ParsedCandidate = Omit<NewCandidate, 'position'>;

/** Where a parser puts what it finds. Parsers never throw for bad input: they report it here. */
export interface ImportSink {
  candidate(candidate: ParsedCandidate): void;
  /** A line (or record) that could not be imported; `line` is 1-based. */
  malformed(line: number, reason: string): void;
  /** Well-formed records that assert nothing worth importing (closed port, failed connect, host down). */
  skipped(count?: number): void;
}
