import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Where a data file (remediation YAML, notice template) is on disk. The data lives under `src/rules/`; the
 * compiled code runs from `dist/`, where tsc copies only the JSON a module imports, so a path that does not
 * exist under `dist/` is looked up at the same place under `src/` (the package ships `src/`).
 */
export function dataPath(relative: string, from: string | URL = import.meta.url): string {
  const direct = fileURLToPath(new URL(relative, from));
  if (existsSync(direct)) return direct;
  // The last `dist` segment: the project itself may sit under a directory of that name.
  const fromSrc = direct.replace(/([\\/])dist([\\/])(?!.*[\\/]dist[\\/])/, '$1src$2');
  return existsSync(fromSrc) ? fromSrc : direct;
}
