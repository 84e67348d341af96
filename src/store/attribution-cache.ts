import { type Kysely, type Migration } from 'kysely';
import { toStoreError } from './store-error.js';

/**
 * Cache of attribution answers (reverse DNS, RDAP networks, security.txt), so that opening cases for
 * many addresses of one network asks the registry once, and registries' rate limits are respected.
 * Keys are `<kind>:<ip or prefix>`: `ptr:192.0.2.10`, `rdap:192.0.2.0/24`, `security-txt:192.0.2.10`.
 * Values are JSON text; times ISO 8601 UTC, so text order is time order on both dialects.
 */
export interface AttributionCacheTable {
  key: string;
  /** `ptr`, `rdap`, `security-txt` — the part of the key before the first colon. */
  kind: string;
  /** JSON text. */
  value: string;
  fetched_at: string;
  expires_at: string;
}

export interface AttributionCacheDatabase {
  attribution_cache: AttributionCacheTable;
}

/** To be registered as `0005_attribution_cache` in migrations.ts. */
export const attributionCacheMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('attribution_cache')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('fetched_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    // For purging expired rows.
    await db.schema.createIndex('attribution_cache_expires').on('attribution_cache').column('expires_at').execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.dropTable('attribution_cache').execute();
  },
};

export interface AttributionCacheEntry {
  key: string;
  value: unknown;
  fetchedAt: string;
  expiresAt: string;
}

/** The smallest interface attribution needs from a cache. */
export interface AttributionCache {
  /** The unexpired entries among `keys`, in the order of `keys`. */
  get(keys: readonly string[], now: Date): Promise<AttributionCacheEntry[]>;
  /** Inserts or replaces. */
  put(entries: readonly AttributionCacheEntry[]): Promise<void>;
  /** Deletes expired rows; returns how many. */
  purgeExpired(now: Date): Promise<number>;
}

/** Bound parameters per `IN (…)` list, well below SQLite's and PostgreSQL's limits. */
const MAX_KEYS = 500;

export function kindOf(key: string): string {
  const i = key.indexOf(':');
  return i === -1 ? key : key.slice(0, i);
}

/** The cache over a Kysely instance whose schema includes `attributionCacheMigration`. `label` names the database in errors. */
export function createAttributionCache(db: Kysely<any>, label: string): AttributionCache {
  const kdb = db as Kysely<AttributionCacheDatabase>;
  const run = async <T>(action: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(err, `${action} in database ${label}`);
    }
  };
  return {
    get(keys, now) {
      return run('read the attribution cache', async () => {
        if (keys.length === 0) return [];
        const wanted = keys.slice(0, MAX_KEYS);
        const rows = await kdb
          .selectFrom('attribution_cache')
          .selectAll()
          .where('key', 'in', wanted)
          .where('expires_at', '>', now.toISOString())
          .execute();
        const byKey = new Map(rows.map((r) => [r.key, r]));
        const out: AttributionCacheEntry[] = [];
        for (const k of wanted) {
          const r = byKey.get(k);
          if (!r) continue;
          let value: unknown;
          try {
            value = JSON.parse(r.value) as unknown;
          } catch {
            continue; // a damaged row is a miss, and the next put replaces it
          }
          out.push({ key: r.key, value, fetchedAt: r.fetched_at, expiresAt: r.expires_at });
        }
        return out;
      });
    },
    put(entries) {
      return run('write the attribution cache', async () => {
        if (entries.length === 0) return;
        // One row per key (the last wins): PostgreSQL refuses to update a row twice in one statement.
        const unique = [...new Map(entries.map((e) => [e.key, e])).values()];
        const rows = unique.map((e) => ({
          key: e.key,
          kind: kindOf(e.key),
          value: JSON.stringify(e.value ?? null),
          fetched_at: e.fetchedAt,
          expires_at: e.expiresAt,
        }));
        await kdb
          .insertInto('attribution_cache')
          .values(rows)
          .onConflict((oc) =>
            oc.column('key').doUpdateSet((eb) => ({
              kind: eb.ref('excluded.kind'),
              value: eb.ref('excluded.value'),
              fetched_at: eb.ref('excluded.fetched_at'),
              expires_at: eb.ref('excluded.expires_at'),
            })),
          )
          .execute();
      });
    },
    purgeExpired(now) {
      return run('purge the attribution cache', async () => {
        const r = await kdb.deleteFrom('attribution_cache').where('expires_at', '<=', now.toISOString()).executeTakeFirst();
        return Number(r.numDeletedRows);
      });
    },
  };
}
