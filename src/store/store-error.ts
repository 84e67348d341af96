import { LockdownError, StoreError, errorMessage } from '../core/errors.js';

/**
 * Turns a driver failure into a `StoreError` that says what was being done and to which database;
 * `what` names both, e.g. `record a batch for scan s-… in database /home/u/.local/share/lockdown/lockdown.db`
 * gives `Could not record a batch … lockdown.db: database or disk is full (SQLITE_FULL)`. Errors of our own hierarchy (NotFoundError …) pass unchanged.
 */
export function toStoreError(err: unknown, what: string): LockdownError {
  if (err instanceof LockdownError) return err;
  const code = driverCode(err);
  const detail = code !== undefined && !errorMessage(err).includes(code) ? `${errorMessage(err)} (${code})` : errorMessage(err);
  return new StoreError(`Could not ${what}: ${detail}`, { cause: err });
}

/** `SQLITE_FULL`, `SQLITE_READONLY`, `SQLITE_NOTADB` … from better-sqlite3; SQLSTATE from pg. */
export function driverCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
